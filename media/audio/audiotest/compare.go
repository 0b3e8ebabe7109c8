// Package audiotest compares recordings with what was sent, for tests
// and benchmarks of calls: how far a recording lags its source, and how
// well it matches it once aligned.
package audiotest

import (
	"math"
	"math/cmplx"
)

// Match is how a recording compares with its source.
type Match struct {
	// Lag is where the source starts in the recording, in samples
	// (48 kHz): the delay from the first sample sent to its playing.
	Lag int
	// Corr is the normalized cross-correlation of the waveforms at Lag
	// over the source's length (1 is identical, 0 unrelated).
	Corr float64
	// Segments is Corr over consecutive windows, each aligned on its
	// own within ±100 ms of Lag (a jitter buffer moves the lag a little
	// as it adapts); SegmentCorr is their mean weighted by the source's
	// energy, so silent stretches do not count.
	Segments    []Segment
	SegmentCorr float64
	// Envelope is the correlation of the 10 ms loudness envelopes:
	// robust to a codec that keeps the sound but not the waveform. It is
	// taken per segment at the segment's own lag (a jitter buffer may
	// move the lag a frame or two during a call), weighted by energy;
	// at Lag for a source shorter than a segment.
	Envelope float64
}

// Segment is one window's alignment.
type Segment struct {
	Lag  int
	Corr float64
}

// SegmentSamples is the window of Match.Segments: 1 s.
const SegmentSamples = 48000

// Compare finds src in rec (rec at least as long as src plus its delay)
// and how well it matches there.
func Compare(src, rec []int16) Match {
	var m Match
	if len(src) == 0 || len(rec) == 0 {
		return m
	}
	m.Lag = bestLag(src, rec)
	m.Corr = corrAt(src, rec, m.Lag)
	m.Envelope = envelopeCorr(src, rec, m.Lag)
	const slack = 4800 // 100 ms
	var wsum, csum, esum float64
	for off := 0; off+SegmentSamples <= len(src); off += SegmentSamples {
		seg := src[off : off+SegmentSamples]
		best, bestLag := -2.0, 0
		for d := -slack; d <= slack; d += 8 { // coarse, then fine
			if c := corrAt(seg, rec, m.Lag+off+d); c > best {
				best, bestLag = c, m.Lag+off+d
			}
		}
		for d := -8; d <= 8; d++ {
			if c := corrAt(seg, rec, bestLag+d); c > best {
				best, bestLag = c, bestLag+d
			}
		}
		e := energy(seg)
		m.Segments = append(m.Segments, Segment{Lag: bestLag - off, Corr: best})
		wsum += e
		csum += e * best
		esum += e * envelopeCorr(seg, rec, bestLag)
	}
	if wsum > 0 {
		m.SegmentCorr = csum / wsum
		m.Envelope = esum / wsum
	}
	return m
}

func energy(x []int16) float64 {
	var e float64
	for _, v := range x {
		e += float64(v) * float64(v)
	}
	return e
}

// corrAt is the normalized correlation of src with rec[lag:].
func corrAt(src, rec []int16, lag int) float64 {
	var sx, sy, sxy float64
	for i, v := range src {
		j := i + lag
		if j < 0 || j >= len(rec) {
			continue
		}
		x, y := float64(v), float64(rec[j])
		sx += x * x
		sy += y * y
		sxy += x * y
	}
	if sx == 0 || sy == 0 {
		return 0
	}
	return sxy / math.Sqrt(sx*sy)
}

// bestLag finds the lag of the highest cross-correlation, by FFT.
func bestLag(src, rec []int16) int {
	n := 1
	for n < len(src)+len(rec) {
		n <<= 1
	}
	a := make([]complex128, n)
	b := make([]complex128, n)
	for i, v := range rec {
		a[i] = complex(float64(v), 0)
	}
	for i, v := range src {
		b[i] = complex(float64(v), 0)
	}
	fft(a, false)
	fft(b, false)
	for i := range a {
		a[i] *= cmplx.Conj(b[i])
	}
	fft(a, true)
	best, lag := math.Inf(-1), 0
	for k := 0; k < len(rec); k++ { // only non-negative lags: rec is later
		if v := real(a[k]); v > best {
			best, lag = v, k
		}
	}
	return lag
}

// fft is an in-place radix-2 FFT (inverse unscaled: only the peak's
// place matters here).
func fft(x []complex128, inverse bool) {
	n := len(x)
	for i, j := 1, 0; i < n; i++ {
		bit := n >> 1
		for ; j&bit != 0; bit >>= 1 {
			j ^= bit
		}
		j ^= bit
		if i < j {
			x[i], x[j] = x[j], x[i]
		}
	}
	for size := 2; size <= n; size <<= 1 {
		ang := 2 * math.Pi / float64(size)
		if !inverse {
			ang = -ang
		}
		w := complex(math.Cos(ang), math.Sin(ang))
		for start := 0; start < n; start += size {
			wk := complex(1, 0)
			for k := 0; k < size/2; k++ {
				u, v := x[start+k], x[start+k+size/2]*wk
				x[start+k], x[start+k+size/2] = u+v, u-v
				wk *= w
			}
		}
	}
}

// envelopeCorr correlates 10 ms RMS envelopes of src and rec at lag.
func envelopeCorr(src, rec []int16, lag int) float64 {
	const win = 480
	var es, er []int16
	for off := 0; off+win <= len(src); off += win {
		es = append(es, int16(math.Min(32767, rmsOf(src[off:off+win]))))
		j := off + lag
		if j < 0 || j+win > len(rec) {
			er = append(er, 0)
			continue
		}
		er = append(er, int16(math.Min(32767, rmsOf(rec[j:j+win]))))
	}
	// Correlate around the means (loudness, not its offset).
	var ms, mr float64
	for i := range es {
		ms += float64(es[i])
		mr += float64(er[i])
	}
	ms /= float64(len(es))
	mr /= float64(len(es))
	var sxy, sx, sy float64
	for i := range es {
		x, y := float64(es[i])-ms, float64(er[i])-mr
		sxy += x * y
		sx += x * x
		sy += y * y
	}
	if sx == 0 || sy == 0 {
		return 0
	}
	return sxy / math.Sqrt(sx*sy)
}

func rmsOf(x []int16) float64 {
	return math.Sqrt(energy(x) / float64(len(x)))
}
