package gpu

import "strings"

// Device is one device TensorFlow can place work on. It mirrors models.Device so this package
// does not depend on the TensorFlow build: the caller converts.
type Device struct {
	Name        string `json:"name"` // TensorFlow's full name, e.g. /job:localhost/replica:0/task:0/device:GPU:0
	Type        string `json:"type"` // CPU, GPU, ...
	MemoryBytes int64  `json:"memory_bytes"`
}

// Short is the device's name without the job/replica/task prefix: "GPU:0", "CPU:0".
func (d Device) Short() string {
	if i := strings.LastIndex(d.Name, "device:"); i >= 0 {
		return d.Name[i+len("device:"):]
	}
	if d.Name == "" {
		return strings.ToUpper(d.Type) + ":0"
	}
	return d.Name
}

// CPU is the device everything can run on; Go-native models always do.
const CPU = "CPU:0"

// Devices is what Discover found.
type Devices struct {
	List []Device `json:"devices"`
	// CUDA reports whether a GPU is usable: TensorFlow listed at least one GPU device.
	CUDA bool `json:"cuda"`
	// Err is why the device list could not be read (e.g. TensorFlow is not linked); List then
	// holds what the lister still returned, or the CPU alone.
	Err error `json:"-"`
}

// Discover asks list for the devices (models.Devices under the tensorflow build tag; nil when
// TensorFlow is not linked) and notes whether CUDA is usable. It never fails: without a list
// there is the CPU.
func Discover(list func() ([]Device, error)) Devices {
	var d Devices
	if list != nil {
		d.List, d.Err = list()
	}
	if len(d.List) == 0 {
		d.List = []Device{{Name: CPU, Type: "CPU"}}
	}
	for _, dev := range d.List {
		if strings.EqualFold(dev.Type, "GPU") {
			d.CUDA = true
			break
		}
	}
	return d
}

// GPU returns the first GPU, if any.
func (d Devices) GPU() (Device, bool) {
	for _, dev := range d.List {
		if strings.EqualFold(dev.Type, "GPU") {
			return dev, true
		}
	}
	return Device{}, false
}

// For names the device a model of the backend runs on: TensorFlow models on the first GPU when
// CUDA is usable, everything else (Go-native models, TensorFlow without a GPU) on the CPU.
func (d Devices) For(backend string) string {
	if backend == BackendTensorFlow {
		if g, ok := d.GPU(); ok {
			return g.Short()
		}
	}
	return CPU
}
