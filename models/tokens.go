package models

import "errors"

// This file holds what the TensorFlow-backed models (models/tf_*.go, build tag `tensorflow`) share
// with the build without the tag (models/tf_off.go), so callers compile either way.

// TokenEncoder turns text into token ids for the TensorFlow models: the one tokeniser shared by
// training export and serving (*Tokenizer satisfies it). Encode never returns an empty slice for
// a tokeniser that follows the contract (a text without tokens gives [1], the unknown id).
type TokenEncoder interface {
	Encode(text string) []int32
}

// ErrTensorFlowUnavailable is returned when lawbot was built without the `tensorflow` build tag
// (make setup && make build links it); the Go-native models serve instead.
var ErrTensorFlowUnavailable = errors.New("tensorflow unavailable: lawbot was built without -tags tensorflow (make setup && make build links it)")

// TFOptions are the TensorFlow session options of a loaded model. Zero values leave TensorFlow's
// defaults (threads: one per core; every visible GPU; GPU memory reserved up front).
type TFOptions struct {
	IntraOpThreads int    // threads inside one op (ConfigProto.intra_op_parallelism_threads)
	InterOpThreads int    // ops run in parallel (ConfigProto.inter_op_parallelism_threads)
	VisibleDevices string // GPUs the session may use, e.g. "0" or "0,1" (gpu_options.visible_device_list)
	AllowGrowth    bool   // GPU memory grows on demand instead of reserved up front (gpu_options.allow_growth)
}

// Device is one device a TensorFlow session can place ops on.
type Device struct {
	Name        string // e.g. "/job:localhost/replica:0/task:0/device:CPU:0"
	Type        string // "CPU", "GPU", ...
	MemoryBytes int64  // TensorFlow's memory limit for the device
}

// maxTFBatch is the most rows one Session.Run gets; larger batches are split.
const maxTFBatch = 64
