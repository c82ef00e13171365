package main

import (
	"errors"
	"io"
)

// evalFilter reports the legal-question filter's FRR and FAR. (Being written.)
func evalFilter(opt evalOptions, stdout, stderr io.Writer) error {
	return errors.New("filter evaluation not implemented yet")
}
