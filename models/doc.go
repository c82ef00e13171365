// Package models holds the models LawBot learns or serves: today the legal-question filter, a
// Go-native logistic regression over hashed character n-grams and Korean morphemes.
package models
