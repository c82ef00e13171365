//go:build tensorflow

package service

import (
	"github.com/lawbot-kr/lawbot/gpu"
	"github.com/lawbot-kr/lawbot/models"
)

// Built with -tags tensorflow (make build, when var/tf-venv is ready): the linked library's
// version, and TensorFlow's own device list for the models.
func init() {
	TensorFlowVersion = models.TensorFlowVersion
	ModelDevices = func() ([]gpu.Device, error) {
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
