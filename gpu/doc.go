// Package gpu decides where LawBot's models run and which of them stay in memory: device
// discovery (is CUDA usable, which device serves a model) and the residency policy (Manager).
//
// The policy comes from the original design. Models that are slow to load and used on every
// request (the encoder, the statute tagger, the legal-question filter) are resident: loaded at
// start and never evicted. Every other model is loaded on demand, released when its last user is
// done and an idle timeout has passed, and evicted least-recently-used first when a load needs
// room; the total never exceeds the configured memory budget. A load that cannot fit even after
// evicting every idle model fails with ErrOverBudget instead.
package gpu
