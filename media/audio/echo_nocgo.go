//go:build !cgo

package audio

// EchoCanceller needs speexdsp, so cgo; built without, there is none.
type EchoCanceller struct{}

// NewEchoCanceller needs speexdsp, so cgo.
func NewEchoCanceller(opts EchoOptions) (*EchoCanceller, error) { return nil, ErrNoCgo }

// Playback does nothing.
func (*EchoCanceller) Playback(frame []int16) {}

// Capture copies mic to out.
func (*EchoCanceller) Capture(mic, out []int16) { copy(out, mic) }

// Close does nothing.
func (*EchoCanceller) Close() error { return nil }
