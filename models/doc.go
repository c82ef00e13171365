// Package models will hold the Embedder, Classifier, Generator and Tagger interfaces and their
// implementations (Go-native, TensorFlow through graft, HTTP). It lands with the model issues.
package models
