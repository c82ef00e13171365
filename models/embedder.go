package models

// Embedder turns text into an L2-normalised vector: the swap point between the Go-native LSA
// baseline and the TensorFlow encoder.
type Embedder interface {
	Dim() int
	Embed(text string) []float32
}

var _ Embedder = (*LSA)(nil)
