package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// Limits of what a WAV file may claim, so that a corrupt or hostile
// file is refused rather than believed.
const (
	maxHeaderChunk = 1 << 20 // bytes of any chunk before the data
	maxWAVBytes    = 1 << 32 // RIFF sizes are 32 bits
	minWAVRate     = 8000
	maxWAVRate     = 192000
	maxWAVChannels = 32
)

// WAVFormat is how a WAV file stores its sound.
type WAVFormat struct {
	Rate     int  // samples per second, per channel
	Channels int  // averaged to mono when decoded
	Bits     int  // per sample: 8 (unsigned), 16, 24, 32 (integer); 32, 64 (Float)
	Float    bool // IEEE floating-point samples
}

// String reads like "22050 Hz, 2 ch, 16-bit".
func (f WAVFormat) String() string {
	kind := ""
	if f.Float {
		kind = " float"
	}
	return fmt.Sprintf("%d Hz, %d ch, %d-bit%s", f.Rate, f.Channels, f.Bits, kind)
}

// blockAlign is the size of one sample frame (all channels).
func (f WAVFormat) blockAlign() int { return f.Channels * f.Bits / 8 }

// Format codes of the fmt chunk, and the tail every
// WAVE_FORMAT_EXTENSIBLE sub-format GUID shares after its code.
const (
	wavPCM        = 1
	wavFloat      = 3
	wavExtensible = 0xFFFE
)

var extensibleGUIDTail = []byte("\x00\x00\x00\x00\x10\x00\x80\x00\x00\xAA\x00\x38\x9B\x71")

// DecodeWAV reads a whole WAV file from r and returns its sound in the
// package's format (48 kHz mono; a 48 kHz mono 16-bit file comes out
// sample for sample) and the format the file stored it in. Errors say
// why the file is refused, without the "audio: NAME:" prefix of
// OpenWAV and ReadWAVFile.
func DecodeWAV(r io.Reader) ([]int16, WAVFormat, error) {
	d, err := newWAVDecoder(r)
	if err != nil {
		return nil, WAVFormat{}, err
	}
	var out []int16
	buf := make([]int16, 8192)
	for {
		n, err := d.read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, d.format, nil
		}
		if err != nil {
			return nil, d.format, err
		}
	}
}

// wavDecoder streams a WAV file's data chunk as 48 kHz mono samples.
type wavDecoder struct {
	r         io.Reader
	format    WAVFormat
	header    int64 // bytes before the data
	remaining int64 // data bytes still to read; -1: until EOF
	raw       []byte
	mono      []float64
	rs        *resampler
}

// newWAVDecoder reads the header up to the start of the data.
func newWAVDecoder(r io.Reader) (*wavDecoder, error) {
	d := &wavDecoder{r: r}
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil || string(hdr[:4]) != "RIFF" {
		return nil, errors.New("not a WAV file (no RIFF header)")
	}
	if string(hdr[8:]) != "WAVE" {
		return nil, errors.New("not a WAV file (RIFF but not WAVE)")
	}
	d.header = 12
	haveFmt := false
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			if !haveFmt {
				return nil, errors.New("not a WAV file (no fmt chunk)")
			}
			return nil, errors.New("no data chunk")
		}
		d.header += 8
		id, size := ch[:4], int64(binary.LittleEndian.Uint32(ch[4:]))
		if string(id) == "data" {
			if !haveFmt {
				return nil, errors.New("data chunk before fmt chunk")
			}
			d.remaining = size
			if size == math.MaxUint32 { // a writer that could not seek back: until EOF
				d.remaining = -1
			}
			d.rs = newResampler(d.format.Rate)
			return d, nil
		}
		if size > maxHeaderChunk {
			return nil, fmt.Errorf("%q chunk of %d bytes is over the 1 MiB limit", id, size)
		}
		body := make([]byte, size+size&1) // chunks are padded to even sizes
		if _, err := io.ReadFull(r, body); err != nil {
			return nil, fmt.Errorf("truncated %q chunk", id)
		}
		d.header += int64(len(body))
		if string(id) == "fmt " {
			f, err := parseFmt(body[:size])
			if err != nil {
				return nil, err
			}
			d.format, haveFmt = f, true
		}
	}
}

// parseFmt checks a fmt chunk for something this decoder can play.
func parseFmt(b []byte) (WAVFormat, error) {
	if len(b) < 16 {
		return WAVFormat{}, fmt.Errorf("fmt chunk of %d bytes, want at least 16", len(b))
	}
	le := binary.LittleEndian
	code := le.Uint16(b[0:])
	f := WAVFormat{
		Channels: int(le.Uint16(b[2:])),
		Rate:     int(le.Uint32(b[4:])),
		Bits:     int(le.Uint16(b[14:])),
	}
	align := int(le.Uint16(b[12:]))
	if code == wavExtensible {
		if len(b) < 40 || !bytes.Equal(b[26:40], extensibleGUIDTail) {
			return f, errors.New("extensible fmt chunk without a known sub-format")
		}
		code = le.Uint16(b[24:])
	}
	switch {
	case code == wavPCM && (f.Bits == 8 || f.Bits == 16 || f.Bits == 24 || f.Bits == 32):
	case code == wavFloat && (f.Bits == 32 || f.Bits == 64):
		f.Float = true
	case code == wavPCM || code == wavFloat:
		return f, fmt.Errorf("unsupported %d-bit samples", f.Bits)
	default:
		return f, fmt.Errorf("unsupported encoding %#x (want PCM or float)", code)
	}
	if f.Channels < 1 || f.Channels > maxWAVChannels {
		return f, fmt.Errorf("%d channels, want 1..%d", f.Channels, maxWAVChannels)
	}
	if f.Rate < minWAVRate || f.Rate > maxWAVRate {
		return f, fmt.Errorf("sample rate %d Hz, want %d..%d", f.Rate, minWAVRate, maxWAVRate)
	}
	if align != f.blockAlign() {
		return f, fmt.Errorf("block align %d, want %d for %v", align, f.blockAlign(), f)
	}
	return f, nil
}

// read fills p with the next 48 kHz mono samples and returns how many;
// io.EOF once the data is over.
func (d *wavDecoder) read(p []int16) (int, error) {
	n := 0
	for n < len(p) {
		v, ok := d.rs.next()
		if ok {
			p[n] = toInt16(v)
			n++
			continue
		}
		if d.rs.ended {
			return n, io.EOF
		}
		in, err := d.pull()
		if err == io.EOF {
			d.rs.end()
		} else if err != nil {
			return n, err
		}
		d.rs.push(in)
	}
	return n, nil
}

// pull decodes the next block of the data chunk to mono, scaled as
// 16-bit samples.
func (d *wavDecoder) pull() ([]float64, error) {
	const block = 4096 // sample frames
	align := int64(d.format.blockAlign())
	want := block * align
	if d.remaining >= 0 {
		want = min(want, d.remaining-d.remaining%align)
	}
	if want == 0 {
		return nil, io.EOF
	}
	if int64(cap(d.raw)) < want {
		d.raw = make([]byte, want)
	}
	raw := d.raw[:want]
	got, err := io.ReadFull(d.r, raw)
	if d.remaining >= 0 {
		d.remaining -= int64(got)
		if err != nil {
			return nil, fmt.Errorf("truncated data chunk (%d bytes missing)", d.remaining)
		}
	} else if err == io.ErrUnexpectedEOF && int64(got)%align == 0 {
		raw = raw[:got]
	} else if err == io.ErrUnexpectedEOF {
		return nil, errors.New("truncated data chunk (ends inside a sample)")
	} else if err != nil {
		return nil, err
	}
	d.mono = toMono(d.mono[:0], raw, d.format)
	return d.mono, nil
}

// toMono appends raw's sample frames averaged over their channels.
func toMono(dst []float64, raw []byte, f WAVFormat) []float64 {
	size, ch := f.Bits/8, f.Channels
	for off := 0; off+size*ch <= len(raw); off += size * ch {
		var sum float64
		for c := range ch {
			sum += sample(raw[off+c*size:], f)
		}
		dst = append(dst, sum/float64(ch))
	}
	return dst
}

// sample is one stored sample scaled to the 16-bit range.
func sample(b []byte, f WAVFormat) float64 {
	le := binary.LittleEndian
	switch {
	case f.Float && f.Bits == 32:
		return clampFloat(float64(math.Float32frombits(le.Uint32(b))))
	case f.Float:
		return clampFloat(math.Float64frombits(le.Uint64(b)))
	case f.Bits == 8:
		return (float64(b[0]) - 128) * 256
	case f.Bits == 16:
		return float64(int16(le.Uint16(b)))
	case f.Bits == 24:
		return float64(int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24)) / 65536
	default:
		return float64(int32(le.Uint32(b))) / 65536
	}
}

// clampFloat scales a float sample (full scale ±1) to the 16-bit range;
// NaN is silence and what is beyond full scale is full scale.
func clampFloat(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return max(-1, min(1, v)) * 32768
}

// toInt16 rounds v to the nearest sample, clipping.
func toInt16(v float64) int16 {
	return int16(max(math.MinInt16, min(math.MaxInt16, math.Round(v))))
}
