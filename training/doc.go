// Package training builds the models LawBot learns from its corpus into a state directory: the
// legal-question filter (in Go), and the TensorFlow encoder and tagger (training/train.py, in
// Python, on the training export this package writes). lawbot train and lawbot serve call it.
package training
