//go:build tensorflow

package main

import "github.com/lawbot-kr/lawbot/models"

// Built with -tags tensorflow (make build, when var/tf-venv is ready): report the linked library.
func init() { tensorflowVersion = models.TensorFlowVersion }
