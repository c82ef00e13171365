// Package gpu will hold device discovery and the model residency policy (which models stay
// resident within a memory budget). It lands with the TensorFlow issue.
package gpu
