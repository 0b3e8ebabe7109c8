//go:build !cgo

package audio

// NewEncoder needs libopus, so cgo.
func NewEncoder() (Encoder, error) { return nil, ErrNoCgo }

// NewDecoder needs libopus, so cgo.
func NewDecoder() (Decoder, error) { return nil, ErrNoCgo }
