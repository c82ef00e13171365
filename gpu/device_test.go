package gpu

import (
	"errors"
	"testing"
)

func TestDiscover(t *testing.T) {
	errNoTF := errors.New("tensorflow: not linked")
	cpu := Device{Name: "/job:localhost/replica:0/task:0/device:CPU:0", Type: "CPU"}
	gpu := Device{Name: "/job:localhost/replica:0/task:0/device:GPU:0", Type: "GPU", MemoryBytes: 80 << 30}
	tests := []struct {
		name    string
		list    func() ([]Device, error)
		cuda    bool
		tfModel string // device of a TensorFlow model
		err     error
	}{
		{name: "no lister", list: nil, tfModel: "CPU:0"},
		{name: "cpu only", list: func() ([]Device, error) { return []Device{cpu}, nil }, tfModel: "CPU:0"},
		{name: "cpu and gpu", list: func() ([]Device, error) { return []Device{cpu, gpu}, nil }, cuda: true, tfModel: "GPU:0"},
		{name: "tensorflow not linked", list: func() ([]Device, error) { return []Device{{Name: "CPU:0", Type: "CPU"}}, errNoTF },
			tfModel: "CPU:0", err: errNoTF},
		{name: "error and nothing listed", list: func() ([]Device, error) { return nil, errNoTF }, tfModel: "CPU:0", err: errNoTF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Discover(tt.list)
			if d.CUDA != tt.cuda {
				t.Errorf("CUDA %v, want %v", d.CUDA, tt.cuda)
			}
			if !errors.Is(d.Err, tt.err) || (tt.err == nil) != (d.Err == nil) {
				t.Errorf("Err %v, want %v", d.Err, tt.err)
			}
			if len(d.List) == 0 {
				t.Error("no devices: the CPU is always there")
			}
			if got := d.For(BackendTensorFlow); got != tt.tfModel {
				t.Errorf("tensorflow model on %q, want %q", got, tt.tfModel)
			}
			if got := d.For(BackendGo); got != CPU {
				t.Errorf("go model on %q, want %q", got, CPU)
			}
		})
	}
}

func TestDeviceShort(t *testing.T) {
	for _, tt := range []struct {
		dev  Device
		want string
	}{
		{Device{Name: "/job:localhost/replica:0/task:0/device:GPU:1", Type: "GPU"}, "GPU:1"},
		{Device{Name: "/device:CPU:0", Type: "CPU"}, "CPU:0"},
		{Device{Name: "CPU:0", Type: "CPU"}, "CPU:0"},
		{Device{Type: "gpu"}, "GPU:0"},
	} {
		if got := tt.dev.Short(); got != tt.want {
			t.Errorf("%+v.Short() = %q, want %q", tt.dev, got, tt.want)
		}
	}
}
