//go:build !cgo

package audio

// OpenMic needs miniaudio, so cgo.
func OpenMic(name string) (Source, error) { return nil, ErrNoCgo }

// OpenSpeaker needs miniaudio, so cgo.
func OpenSpeaker(name string) (Sink, error) { return nil, ErrNoCgo }

// Devices needs miniaudio, so cgo.
func Devices() (capture, playback []DeviceInfo, err error) { return nil, nil, ErrNoCgo }
