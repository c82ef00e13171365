// Package synthvec makes random-but-clustered unit vectors for benchmarks and recall tests:
// uniform random vectors are a poor stand-in for embeddings, which crowd around topics, and
// they flatter or punish an approximate index in ways real data does not.
package synthvec

import (
	"math"
	"math/rand/v2"
)

// Set draws vectors around a fixed set of Gaussian cluster centres.
type Set struct {
	dim     int
	spread  float64
	centres [][]float64
	rng     *rand.Rand
}

// New makes clusters centres of dimension dim. spread is the noise's norm relative to a
// centre's: 0.5 keeps clusters apart yet lets them overlap at the edges, as topics do.
func New(dim, clusters int, spread float64, seed uint64) *Set {
	s := &Set{dim: dim, spread: spread, rng: rand.New(rand.NewPCG(seed, seed^0x5851f42d4c957f2d))}
	for range clusters {
		c := make([]float64, dim)
		for i := range c {
			c[i] = s.rng.NormFloat64()
		}
		normalise(c)
		s.centres = append(s.centres, c)
	}
	return s
}

// Next is a unit vector near a random centre.
func (s *Set) Next() []float32 {
	c := s.centres[s.rng.IntN(len(s.centres))]
	v := make([]float64, s.dim)
	sd := s.spread / math.Sqrt(float64(s.dim))
	for i := range v {
		v[i] = c[i] + sd*s.rng.NormFloat64()
	}
	normalise(v)
	out := make([]float32, s.dim)
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// Cluster draws n vectors.
func (s *Set) Cluster(n int) [][]float32 {
	out := make([][]float32, n)
	for i := range out {
		out[i] = s.Next()
	}
	return out
}

func normalise(v []float64) {
	var n float64
	for _, x := range v {
		n += x * x
	}
	n = math.Sqrt(n)
	for i := range v {
		v[i] /= n
	}
}
