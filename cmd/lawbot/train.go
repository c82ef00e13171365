package main

import (
	"errors"
	"io"
)

// runTrain trains the models LawBot learns from the corpus. (Being written.)
func runTrain(args []string, stdout, stderr io.Writer) error {
	return errors.New("train not implemented yet")
}
