package audio

import (
	"errors"
	"fmt"
)

// ErrClosed is the error of a Read or Write on a source or sink that
// has been closed (a Read blocked in Close's time returns it too).
var ErrClosed = errors.New("audio: closed")

// checkFrame refuses a frame that is not FrameSamples long: a source
// fills exactly one frame per Read.
func checkFrame(frame []int16) error {
	if len(frame) != FrameSamples {
		return fmt.Errorf("audio: frame of %d samples, want %d", len(frame), FrameSamples)
	}
	return nil
}
