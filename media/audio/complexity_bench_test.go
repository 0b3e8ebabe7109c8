//go:build cgo

package audio

import (
	"fmt"
	"testing"

	"gopkg.in/hraban/opus.v2"

	"soitto/media/audio/audiotest"
)

// BenchmarkOpusComplexity compares the encoder's cost at complexity 5,
// 9 (encoderComplexity) and 10 (libopus's default), set otherwise as
// NewEncoder sets it, with FEC idle (no loss reported) and working (10%
// reported), on a second of voice-like sound. Beside ns/op (one 20 ms
// frame) it reports cpu-% (of one core, for one stream in real time),
// bytes/frame, how well the sound survives encoding and decoding
// (corr: audiotest.Compare's correlation, 1 is identical), and the share
// of packets bit-identical to complexity 10's (%same-as-10), so that
// the complexity chosen can be weighed against what it costs.
//
//	go test ./media/audio/ -run '^$' -bench OpusComplexity
func BenchmarkOpusComplexity(b *testing.B) {
	src := audiotest.VoiceLike(1)
	for _, loss := range []int{0, 10} {
		ref := complexityPackets(b, newComplexityEncoder(b, 10, loss), src)
		for _, complexity := range []int{5, 9, 10} {
			b.Run(fmt.Sprintf("loss=%d%%/complexity=%d", loss, complexity), func(b *testing.B) {
				corr, bytes := complexityQuality(b, newComplexityEncoder(b, complexity, loss), src)
				same := 0
				for i, p := range complexityPackets(b, newComplexityEncoder(b, complexity, loss), src) {
					if string(p) == string(ref[i]) {
						same++
					}
				}
				enc := newComplexityEncoder(b, complexity, loss)
				buf := make([]byte, MaxPacket)
				frames := len(src) / FrameSamples
				n := 0
				for ; b.Loop(); n++ {
					off := (n % frames) * FrameSamples
					if _, err := enc.Encode(src[off:off+FrameSamples], buf); err != nil {
						b.Fatal(err)
					}
				}
				perFrame := float64(b.Elapsed().Nanoseconds()) / float64(n)
				b.ReportMetric(100*perFrame/float64(FrameDuration.Nanoseconds()), "cpu-%")
				b.ReportMetric(bytes, "bytes/frame")
				b.ReportMetric(corr, "corr")
				b.ReportMetric(100*float64(same)/float64(len(ref)), "%same-as-10")
			})
		}
	}
}

// newComplexityEncoder is NewEncoder's encoder at complexity, told of
// loss percent of packets lost.
func newComplexityEncoder(b *testing.B, complexity, loss int) *opus.Encoder {
	e, err := opus.NewEncoder(SampleRate, Channels, opus.AppVoIP)
	if err != nil {
		b.Fatal(err)
	}
	for _, set := range []func() error{
		func() error { return e.SetBitrate(DefaultBitrate) },
		func() error { return e.SetComplexity(complexity) },
		func() error { return e.SetInBandFEC(true) },
		func() error { return e.SetPacketLossPerc(loss) },
	} {
		if err := set(); err != nil {
			b.Fatal(err)
		}
	}
	return e
}

// complexityPackets is src encoded by enc, a packet a frame.
func complexityPackets(b *testing.B, enc *opus.Encoder, src []int16) [][]byte {
	buf := make([]byte, MaxPacket)
	var pkts [][]byte
	for off := 0; off+FrameSamples <= len(src); off += FrameSamples {
		k, err := enc.Encode(src[off:off+FrameSamples], buf)
		if err != nil {
			b.Fatal(err)
		}
		pkts = append(pkts, append([]byte(nil), buf[:k]...))
	}
	return pkts
}

// complexityQuality encodes src with enc (twice over, so that the
// encoder has settled), decodes it, and compares the second pass with
// src: the correlation, and the mean packet size.
func complexityQuality(b *testing.B, enc *opus.Encoder, src []int16) (corr, bytes float64) {
	dec, err := NewDecoder()
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, MaxPacket)
	frame := make([]int16, FrameSamples)
	var out []int16
	total, n := 0, 0
	for pass := range 2 {
		for off := 0; off+FrameSamples <= len(src); off += FrameSamples {
			k, err := enc.Encode(src[off:off+FrameSamples], buf)
			if err != nil {
				b.Fatal(err)
			}
			if err := dec.Decode(buf[:k], frame); err != nil {
				b.Fatal(err)
			}
			if pass == 1 {
				out = append(out, frame...)
				total += k
				n++
			}
		}
	}
	// The recording is as long as the source; compare all but the
	// codec's delay at its end.
	return audiotest.Compare(src[:len(src)-FrameSamples], out).Corr, float64(total) / float64(n)
}
