// Package gpu decides where LawBot's models run and which of them stay in memory: device
// discovery (is CUDA usable, which device serves a model) and the residency manager (Manager).
//
// The Manager knows no model by name; which of LawBot's models is resident and which is loaded
// on demand is the policy table in package models (models.Policy). Resident models are loaded
// by Start and never evicted. Every other model is loaded on first use, released when its last
// user is done and an idle timeout has passed, and evicted least-recently-used first when a load
// needs room; the total never exceeds the configured memory budget. A load that cannot fit even
// after evicting every idle model fails with ErrOverBudget instead.
package gpu
