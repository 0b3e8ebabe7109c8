package audio

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// WAVSource plays a WAV file as a Source, paced like a microphone. It
// decodes as it goes, so a long file costs no memory.
type WAVSource struct {
	name    string
	format  WAVFormat
	samples int64
	pace    *pacer

	mu  sync.Mutex // guards f, dec, eof
	f   *os.File
	dec *wavDecoder
	eof bool
}

// OpenWAV opens a WAV file to play: PCM of 8 (unsigned), 16, 24 or 32
// bits, or 32- or 64-bit float, plain or WAVE_FORMAT_EXTENSIBLE, with
// any number of channels (averaged to mono) at 8 to 192 kHz (resampled
// to 48 kHz).
func OpenWAV(path string) (*WAVSource, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("audio: %w", err)
	}
	s, err := newWAVSource(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

func newWAVSource(f *os.File, name string) (*WAVSource, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("audio: %w", err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("audio: %s: is a folder, not a WAV file", name)
	}
	if fi.Size() > maxWAVBytes {
		return nil, fmt.Errorf("audio: %s: %d bytes is over the 4 GiB a WAV file can hold", name, fi.Size())
	}
	dec, err := newWAVDecoder(bufio.NewReaderSize(f, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("audio: %s: %w", name, err)
	}
	left := fi.Size() - dec.header
	switch {
	case dec.remaining < 0:
		dec.remaining = left
	case dec.remaining > left:
		return nil, fmt.Errorf("audio: %s: truncated (data chunk of %d bytes, %d in the file)", name, dec.remaining, left)
	}
	frames := dec.remaining / int64(dec.format.blockAlign())
	return &WAVSource{
		name:    name,
		format:  dec.format,
		samples: (frames*SampleRate + int64(dec.format.Rate) - 1) / int64(dec.format.Rate),
		pace:    newPacer(),
		f:       f,
		dec:     dec,
	}, nil
}

// Format is how the file stores its sound.
func (s *WAVSource) Format() WAVFormat { return s.format }

// Samples is how many samples (at 48 kHz) the source gives before
// io.EOF, not counting the padding of the last frame.
func (s *WAVSource) Samples() int64 { return s.samples }

// Duration is how long the file plays.
func (s *WAVSource) Duration() time.Duration {
	return time.Duration(s.samples) * time.Second / SampleRate
}

// SetPaced turns pacing off (for tests and tools that read a file as
// fast as they can) or back on. Call it between Reads, not during one.
func (s *WAVSource) SetPaced(on bool) { s.pace.setPaced(on) }

// Read fills frame with the next 20 ms once its time has come; the last
// frame is padded with silence, and io.EOF follows it.
func (s *WAVSource) Read(frame []int16) error {
	if err := checkFrame(frame); err != nil {
		return err
	}
	n, err := s.decode(frame)
	if err != nil {
		return err
	}
	clear(frame[n:])
	return s.pace.wait()
}

// decode reads the next frame's samples from the file.
func (s *WAVSource) decode(frame []int16) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dec == nil {
		return 0, ErrClosed
	}
	if s.eof {
		return 0, io.EOF
	}
	n, err := s.dec.read(frame)
	if errors.Is(err, io.EOF) {
		s.eof = true
		if n == 0 {
			return 0, io.EOF
		}
		return n, nil
	}
	if err != nil {
		return 0, fmt.Errorf("audio: %s: %w", s.name, err)
	}
	return n, nil
}

// Close closes the file; a Read waiting for its frame's time returns
// ErrClosed.
func (s *WAVSource) Close() error {
	s.pace.close()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dec == nil {
		return nil
	}
	s.dec = nil
	return s.f.Close()
}

// ReadWAVFile reads a whole WAV file (any kind OpenWAV takes) as 48 kHz
// mono samples.
func ReadWAVFile(path string) ([]int16, error) {
	s, err := OpenWAV(path)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	out := make([]int16, 0, s.samples)
	buf := make([]int16, 8192)
	for {
		n, err := s.dec.read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("audio: %s: %w", path, err)
		}
	}
}
