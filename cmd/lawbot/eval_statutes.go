package main

import (
	"errors"
	"io"
)

// evalStatutes runs a statute-ranking dev set. (Being written.)
func evalStatutes(opt evalOptions, stdout, stderr io.Writer) error {
	return errors.New("statute evaluation not implemented yet")
}
