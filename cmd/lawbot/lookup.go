package main

import (
	"errors"
	"io"
)

func runStatute(args []string, stdout, stderr io.Writer) error {
	return errors.New("not implemented yet")
}
func runPrecedent(args []string, stdout, stderr io.Writer) error {
	return errors.New("not implemented yet")
}
