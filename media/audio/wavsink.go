package audio

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// wavHeaderSize is the header CreateWAV writes: RIFF, fmt and data
// chunk headers for 16-bit PCM.
const wavHeaderSize = 44

// maxWAVData is the most sound a 16-bit WAV file can hold (its RIFF
// size must fit 32 bits).
const maxWAVData = (maxWAVBytes - 1 - (wavHeaderSize - 8)) &^ 1

// WAVSink records to a WAV file (48 kHz mono 16-bit PCM). The file
// appears under its name only when Close succeeds: until then the sound
// goes to a temporary file next to it.
type WAVSink struct {
	path string

	mu      sync.Mutex // guards the rest
	f       *os.File   // the temporary file; nil once closed
	w       *bufio.Writer
	scratch []byte
	n       int64 // data bytes written
	err     error // the first write error, returned from then on
}

// CreateWAV starts recording to path, replacing the file there when
// Close succeeds.
func CreateWAV(path string) (*WAVSink, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.part")
	if err != nil {
		return nil, fmt.Errorf("audio: %w", err)
	}
	s := &WAVSink{path: path, f: f, w: bufio.NewWriterSize(f, 64<<10)}
	if _, err := s.w.Write(wavHeader(0)); err != nil {
		s.abort()
		return nil, fmt.Errorf("audio: %s: %w", path, err)
	}
	return s, nil
}

// wavHeader is the header of a 48 kHz mono 16-bit file with n bytes of
// data.
func wavHeader(n int64) []byte {
	h := make([]byte, 0, wavHeaderSize)
	le := binary.LittleEndian
	h = append(h, "RIFF"...)
	h = le.AppendUint32(h, uint32(wavHeaderSize-8+n))
	h = append(h, "WAVEfmt "...)
	h = le.AppendUint32(h, 16)
	h = le.AppendUint16(h, wavPCM)
	h = le.AppendUint16(h, Channels)
	h = le.AppendUint32(h, SampleRate)
	h = le.AppendUint32(h, SampleRate*Channels*2)
	h = le.AppendUint16(h, Channels*2)
	h = le.AppendUint16(h, 16)
	h = append(h, "data"...)
	return le.AppendUint32(h, uint32(n))
}

// Write appends samples (a frame, or any number).
func (s *WAVSink) Write(samples []int16) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return ErrClosed
	}
	if s.err != nil {
		return s.err
	}
	if s.n+2*int64(len(samples)) > maxWAVData {
		s.err = fmt.Errorf("audio: %s: recording would pass the 4 GiB a WAV file can hold", s.path)
		return s.err
	}
	b := s.scratch[:0]
	for _, v := range samples {
		b = binary.LittleEndian.AppendUint16(b, uint16(v))
	}
	s.scratch = b
	if _, err := s.w.Write(b); err != nil {
		s.err = fmt.Errorf("audio: %s: %w", s.path, err)
		return s.err
	}
	s.n += int64(len(b))
	return nil
}

// Close completes the header, syncs the file to disk and renames it
// into place. After a write error it removes the temporary file and
// returns that error.
func (s *WAVSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	if s.err != nil {
		s.abort()
		return s.err
	}
	err := s.w.Flush()
	if err == nil {
		_, err = s.f.WriteAt(wavHeader(s.n), 0)
	}
	if err == nil {
		err = s.f.Sync()
	}
	if err == nil {
		err = s.f.Chmod(0o644)
	}
	tmp := s.f.Name()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	s.f = nil
	if err == nil {
		err = os.Rename(tmp, s.path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("audio: %s: %w", s.path, err)
	}
	return nil
}

// abort closes and removes the temporary file.
func (s *WAVSink) abort() {
	s.f.Close()
	os.Remove(s.f.Name())
	s.f = nil
}

// WriteWAVFile writes samples (48 kHz mono) to a WAV file at path.
func WriteWAVFile(path string, samples []int16) error {
	s, err := CreateWAV(path)
	if err != nil {
		return err
	}
	s.Write(samples) // a write error is sticky: Close returns it
	return s.Close()
}
