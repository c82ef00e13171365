package service

import "github.com/lawbot-kr/lawbot/gpu"

// TensorFlowVersion is the linked TensorFlow's version, "" when the binary is built without it
// (the tensorflow build tag fills it in). Tests replace it and the two hooks below.
var TensorFlowVersion = func() string { return "" }

// ModelDevices lists the devices TensorFlow can place models on (models.Devices, converted);
// nil until the tensorflow build wires it, and then `lawbot models` reports the CPU alone.
var ModelDevices func() ([]gpu.Device, error)

// TensorFlowAvailable reports whether TensorFlow-backed models can be loaded: by default,
// whenever the binary links a TensorFlow version.
var TensorFlowAvailable = func() bool { return TensorFlowVersion() != "" }
