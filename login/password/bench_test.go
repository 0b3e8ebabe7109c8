package password

import (
	"context"
	"testing"
)

// BenchmarkHashDefault is the cost of one new password with DefaultParams.
func BenchmarkHashDefault(b *testing.B) {
	for b.Loop() {
		if _, err := Hash("correct horse battery staple", DefaultParams); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyKnown and BenchmarkVerifyUnknown should report about the
// same time: a login must not tell whether the username exists.
func BenchmarkVerifyKnown(b *testing.B) {
	h := NewHasher(HasherConfig{Concurrency: 1})
	phc, err := h.Hash(context.Background(), "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := h.Verify(context.Background(), phc, "wrong horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyUnknown(b *testing.B) {
	h := NewHasher(HasherConfig{Concurrency: 1})
	for b.Loop() {
		if err := h.VerifyUnknown(context.Background(), "wrong horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}
