//go:build tensorflow

package main

import (
	"github.com/lawbot-kr/lawbot/gpu"
	"github.com/lawbot-kr/lawbot/models"
)

// With TensorFlow linked, the devices the models may use are TensorFlow's own list.
func init() {
	modelDevices = func() ([]gpu.Device, error) {
		ds, err := models.Devices(models.TFOptions{})
		out := make([]gpu.Device, len(ds))
		for i, d := range ds {
			out[i] = gpu.Device{Name: d.Name, Type: d.Type, MemoryBytes: d.MemoryBytes}
		}
		return out, err
	}
}
