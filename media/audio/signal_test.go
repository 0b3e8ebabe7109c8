package audio

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"
)

// goertzel is the power of samples at hz (48 kHz).
func goertzel(samples []int16, hz float64) float64 {
	k := 2 * math.Cos(2*math.Pi*hz/SampleRate)
	var s1, s2 float64
	for _, v := range samples {
		s1, s2 = float64(v)+k*s1-s2, s1
	}
	return s1*s1 + s2*s2 - k*s1*s2
}

// energy is the sum of squares of samples.
func energy(samples []int16) float64 {
	var e float64
	for _, v := range samples {
		e += float64(v) * float64(v)
	}
	return e
}

// rms is the root mean square of samples.
func rms(samples []int16) float64 {
	if len(samples) == 0 {
		return 0
	}
	return math.Sqrt(energy(samples) / float64(len(samples)))
}

// dB is 10·log10(a/b).
func dB(a, b float64) float64 { return 10 * math.Log10(a/b) }

// sineAt is n samples of a sine at hz for a rate, amplitude amp of full
// scale (1).
func sineAt(n, rate int, hz, amp float64) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = amp * math.Sin(2*math.Pi*hz*float64(i)/float64(rate))
	}
	return s
}

// encodeWAV makes a WAV file in format f (extensible: with a
// WAVE_FORMAT_EXTENSIBLE fmt chunk) whose channels carry chans
// (samples of full scale 1; all channels the same length).
func encodeWAV(t testing.TB, f WAVFormat, extensible bool, chans ...[]float64) []byte {
	t.Helper()
	le := binary.LittleEndian
	var data []byte
	for i := range chans[0] {
		for _, ch := range chans {
			v := ch[i]
			switch {
			case f.Float && f.Bits == 32:
				data = le.AppendUint32(data, math.Float32bits(float32(v)))
			case f.Float:
				data = le.AppendUint64(data, math.Float64bits(v))
			case f.Bits == 8:
				data = append(data, byte(math.Round(128+v*127)))
			case f.Bits == 16:
				data = le.AppendUint16(data, uint16(int16(math.Round(v*32767))))
			case f.Bits == 24:
				x := int32(math.Round(v * 8388607))
				data = append(data, byte(x), byte(x>>8), byte(x>>16))
			default:
				data = le.AppendUint32(data, uint32(int32(math.Round(v*2147483647))))
			}
		}
	}
	code := uint16(wavPCM)
	if f.Float {
		code = wavFloat
	}
	var fmtc []byte
	tag := code
	if extensible {
		tag = wavExtensible
	}
	fmtc = le.AppendUint16(fmtc, tag)
	fmtc = le.AppendUint16(fmtc, uint16(f.Channels))
	fmtc = le.AppendUint32(fmtc, uint32(f.Rate))
	fmtc = le.AppendUint32(fmtc, uint32(f.Rate*f.blockAlign()))
	fmtc = le.AppendUint16(fmtc, uint16(f.blockAlign()))
	fmtc = le.AppendUint16(fmtc, uint16(f.Bits))
	if extensible {
		fmtc = le.AppendUint16(fmtc, 22)
		fmtc = le.AppendUint16(fmtc, uint16(f.Bits))
		fmtc = le.AppendUint32(fmtc, 0) // channel mask
		fmtc = le.AppendUint16(fmtc, code)
		fmtc = append(fmtc, extensibleGUIDTail...)
	}
	return riff(chunk("fmt ", fmtc), chunk("LIST", []byte("INFOISFT\x05\x00\x00\x00test\x00")), chunk("data", data))
}

// chunk is a RIFF chunk with id and body, padded to an even size.
func chunk(id string, body []byte) []byte {
	b := append([]byte(id), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...)
	b = append(b, body...)
	if len(body)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

// riff wraps chunks in a RIFF WAVE header.
func riff(chunks ...[]byte) []byte {
	body := append([]byte("WAVE"), bytes.Join(chunks, nil)...)
	return append(append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...), body...)
}
