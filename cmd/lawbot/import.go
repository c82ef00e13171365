package main

import (
	"errors"
	"io"
)

func runImport(args []string, stdout, stderr io.Writer) error {
	return errors.New("not implemented yet")
}
