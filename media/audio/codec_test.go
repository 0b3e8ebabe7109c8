//go:build cgo

package audio

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"soitto/media/audio/audiotest"
)

func voiceLike(n int) []int16 { return audiotest.VoiceLike(float64(n) / SampleRate) }

func encodeAll(t testing.TB, pcm []int16) [][]byte {
	enc, err := NewEncoder()
	if err != nil {
		t.Fatal(err)
	}
	var pkts [][]byte
	buf := make([]byte, MaxPacket)
	for off := 0; off+FrameSamples <= len(pcm); off += FrameSamples {
		n, err := enc.Encode(pcm[off:off+FrameSamples], buf)
		if err != nil {
			t.Fatal(err)
		}
		pkts = append(pkts, append([]byte(nil), buf[:n]...))
	}
	return pkts
}

func snr(ref, got []int16) float64 {
	var s, n float64
	for i := range ref {
		d := float64(ref[i]) - float64(got[i])
		s += float64(ref[i]) * float64(ref[i])
		n += d * d
	}
	return 10 * math.Log10(s/n)
}

// TestOpusRoundTrip: encoded and decoded, the sound keeps its shape
// (Opus delays it by about 6.5 ms).
func TestOpusRoundTrip(t *testing.T) {
	src := voiceLike(SampleRate * 2)
	pkts := encodeAll(t, src)
	dec, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	var out []int16
	frame := make([]int16, FrameSamples)
	bytes := 0
	for _, p := range pkts {
		if err := dec.Decode(p, frame); err != nil {
			t.Fatal(err)
		}
		out = append(out, frame...)
		bytes += len(p)
	}
	m := audiotest.Compare(src[:len(src)-SampleRate/2], out)
	kbps := float64(bytes*8) / 2 / 1000
	t.Logf("correlation %.3f at lag %d (envelope %.3f), %.1f kb/s", m.Corr, m.Lag, m.Envelope, kbps)
	if m.Corr < 0.75 || m.Lag < 200 || m.Lag > 400 {
		t.Fatalf("correlation %.3f at lag %d after an Opus round trip", m.Corr, m.Lag)
	}
	if kbps > 40 || kbps < 16 {
		t.Fatalf("%.1f kb/s, want about %d", kbps, DefaultBitrate/1000)
	}
	if err := dec.Decode(make([]byte, MaxPacket+1), frame); err == nil {
		t.Fatal("an oversized packet was decoded")
	}
}

// TestOpusFECRecovers: with the loss set, a lost packet recovered from
// the next one's FEC is closer to the original than concealment.
func TestOpusFECRecovers(t *testing.T) {
	src := voiceLike(SampleRate * 2)
	enc, err := NewEncoder()
	if err != nil {
		t.Fatal(err)
	}
	enc.SetLoss(10)
	var pkts [][]byte
	buf := make([]byte, MaxPacket)
	for off := 0; off+FrameSamples <= len(src); off += FrameSamples {
		n, err := enc.Encode(src[off:off+FrameSamples], buf)
		if err != nil {
			t.Fatal(err)
		}
		pkts = append(pkts, append([]byte(nil), buf[:n]...))
	}
	decode := func(fec bool) []int16 {
		dec, _ := NewDecoder()
		var out []int16
		frame := make([]int16, FrameSamples)
		for i, p := range pkts {
			switch {
			case i%10 != 5:
				dec.Decode(p, frame)
			case fec:
				dec.DecodeFEC(pkts[i+1], frame)
			default:
				dec.Conceal(frame)
			}
			out = append(out, frame...)
		}
		return out
	}
	const delay = 304 // measured in TestOpusRoundTrip
	lostOnly := func(out []int16) float64 {
		var ref, got []int16
		for i := 5; i+1 < len(pkts); i += 10 {
			a := i*FrameSamples - delay
			ref = append(ref, src[a:a+FrameSamples]...)
			got = append(got, out[a+delay:a+delay+FrameSamples]...)
		}
		return snr(ref, got)
	}
	withFEC, without := lostOnly(decode(true)), lostOnly(decode(false))
	t.Logf("lost frames: SNR %.1f dB from FEC, %.1f dB concealed", withFEC, without)
	if withFEC <= without+1 {
		t.Fatalf("FEC %.1f dB is no better than concealment %.1f dB", withFEC, without)
	}
}

func BenchmarkOpusEncode(b *testing.B) {
	src := voiceLike(SampleRate)
	enc, _ := NewEncoder()
	buf := make([]byte, MaxPacket)
	b.ResetTimer()
	for i := range b.N {
		off := (i % 50) * FrameSamples
		if _, err := enc.Encode(src[off:off+FrameSamples], buf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpusDecode(b *testing.B) {
	pkts := encodeAll(b, voiceLike(SampleRate))
	dec, _ := NewDecoder()
	frame := make([]int16, FrameSamples)
	b.ResetTimer()
	for i := range b.N {
		if err := dec.Decode(pkts[i%len(pkts)], frame); err != nil {
			b.Fatal(err)
		}
	}
}

// lossyPipeline runs src through the receive path without a network or a
// clock: encoded 20 ms at a time (FEC on or off, the loss announced),
// packets dropped at random with a fixed seed, the rest pushed one a turn
// into a jitter buffer, and each turn decoded as the buffer says. It
// returns what was played and how many packets were lost.
func lossyPipeline(t *testing.T, src []int16, loss float64, fec bool) ([]int16, int) {
	t.Helper()
	enc, err := NewEncoder()
	if err != nil {
		t.Fatal(err)
	}
	enc.(interface{ SetFEC(bool) error }).SetFEC(fec)
	enc.SetLoss(int(loss * 100))
	dec, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	j := NewJitter()
	t0 := time.Now()
	buf := make([]byte, MaxPacket)
	frame := make([]int16, FrameSamples)
	var out []int16
	lost := 0
	for i := 0; i+FrameSamples <= len(src)+2*FrameSamples; i += FrameSamples {
		if i+FrameSamples <= len(src) {
			n, err := enc.Encode(src[i:i+FrameSamples], buf)
			if err != nil {
				t.Fatal(err)
			}
			seq := uint16(i / FrameSamples)
			if rnd.Float64() < loss {
				lost++
			} else {
				j.Push(seq, uint32(i), append([]byte(nil), buf[:n]...), t0.Add(time.Duration(seq)*FrameDuration))
			}
		}
		play, p := j.Pop()
		switch play {
		case PlayWait:
			clear(frame)
		case PlayPacket:
			err = dec.Decode(p, frame)
		case PlayFEC:
			err = dec.DecodeFEC(p, frame)
		case PlayConceal:
			err = dec.Conceal(frame)
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, frame...)
	}
	return out, lost
}

// TestFECAtLoss: what in-band FEC gives at 5% and 10% random loss, on the
// receive path a call uses (encoder, jitter buffer, decoder), without the
// machine's scheduling in the measurement: FEC measurably helps, and a
// lost packet costs its own frame, not the call.
func TestFECAtLoss(t *testing.T) {
	src := voiceLike(SampleRate * 6)
	clean, _ := lossyPipeline(t, src, 0, true)
	ref := audiotest.Compare(src, clean).SegmentCorr
	t.Logf("no loss: correlation by segment %.3f", ref)
	for _, loss := range []float64{0.05, 0.10} {
		withOut, lost := lossyPipeline(t, src, loss, true)
		noOut, _ := lossyPipeline(t, src, loss, false)
		with, without := audiotest.Compare(src, withOut), audiotest.Compare(src, noOut)
		t.Logf("%.0f%% loss (%d packets lost): FEC %.3f (envelope %.3f), no FEC %.3f (envelope %.3f)",
			loss*100, lost, with.SegmentCorr, with.Envelope, without.SegmentCorr, without.Envelope)
		if with.SegmentCorr <= without.SegmentCorr {
			t.Errorf("%.0f%% loss: FEC %.3f is no better than concealment alone %.3f", loss*100, with.SegmentCorr, without.SegmentCorr)
		}
		if with.SegmentCorr < 0.85*ref {
			t.Errorf("%.0f%% loss: %.3f against %.3f without loss: not graceful", loss*100, with.SegmentCorr, ref)
		}
	}
}
