//go:build tensorflow

package main

import (
	"github.com/lawbot-kr/lawbot/gpu"
	"github.com/lawbot-kr/lawbot/models"
)

// With TensorFlow linked, the devices the models may use are TensorFlow's own list.
func init() {
	modelDevices = func() ([]gpu.Device, error) {
		// The first session fixes TensorFlow's GPU allocator for the process: list the devices
		// with the options the models load with (memory grows on demand).
		ds, err := models.Devices(models.TFOptions{AllowGrowth: true})
		out := make([]gpu.Device, len(ds))
		for i, d := range ds {
			out[i] = gpu.Device{Name: d.Name, Type: d.Type, MemoryBytes: d.MemoryBytes}
		}
		return out, err
	}
}
