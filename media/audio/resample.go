package audio

import (
	"math"
	"sync"
)

// Resampling is band-limited interpolation with a Blackman-windowed
// sinc kernel, tabulated once. Its cutoff sits a little below the lower
// of the two Nyquist frequencies, so that a 192 kHz file does not alias
// and an 8 kHz one does not image.
const (
	sincZeros  = 16   // zero crossings on each side of the kernel
	sincRes    = 512  // table entries per zero crossing
	sincCutoff = 0.95 // of the lower Nyquist frequency
)

// sincTable is the kernel k(x) = sinc(x)·blackman(x/sincZeros) for
// x = i/sincRes, 0 ≤ i ≤ sincZeros·sincRes (and one zero beyond).
var sincTable = sync.OnceValue(func() []float64 {
	t := make([]float64, sincZeros*sincRes+2)
	for i := range sincZeros*sincRes + 1 {
		x := float64(i) / sincRes
		s := 1.0
		if i > 0 {
			s = math.Sin(math.Pi*x) / (math.Pi * x)
		}
		u := x / sincZeros // 0..1
		w := 0.42 + 0.5*math.Cos(math.Pi*u) + 0.08*math.Cos(2*math.Pi*u)
		t[i] = s * w
	}
	return t
})

// resampler turns a stream of samples at one rate into SampleRate.
// Output sample n sits at input position n·in/SampleRate, kept as an
// exact integer ratio so that long files do not drift. At SampleRate
// in, it passes samples through untouched.
type resampler struct {
	in    int64
	fc    float64 // cutoff, as a fraction of the input's Nyquist
	half  int64   // kernel half-width in input samples
	table []float64

	x     []float64 // input samples from index base on
	base  int64
	ended bool  // no more input will come
	total int64 // input samples pushed
	n     int64 // next output sample
}

func newResampler(in int) *resampler {
	r := &resampler{in: int64(in), fc: sincCutoff * min(1, float64(SampleRate)/float64(in))}
	r.half = int64(math.Ceil(sincZeros / r.fc))
	r.table = sincTable()
	return r
}

// push appends input samples.
func (r *resampler) push(p []float64) {
	r.x = append(r.x, p...)
	r.total += int64(len(p))
}

// end says no more input will come: the output runs to the input's
// duration, reading zeros beyond its end.
func (r *resampler) end() { r.ended = true }

// next returns the next output sample, or false when it needs more
// input (or, once ended, has given all there is).
func (r *resampler) next() (float64, bool) {
	if r.ended && r.n >= (r.total*SampleRate+r.in-1)/r.in {
		return 0, false
	}
	pos := r.n * r.in
	c, rem := pos/SampleRate, pos%SampleRate
	if r.in == SampleRate {
		if c >= r.base+int64(len(r.x)) {
			return 0, false
		}
		v := r.x[c-r.base]
		r.n++
		r.trim(c + 1)
		return v, true
	}
	if !r.ended && c+r.half >= r.base+int64(len(r.x)) {
		return 0, false
	}
	frac := float64(rem) / SampleRate
	var sum, wsum float64
	for k := c - r.half + 1; k <= c+r.half; k++ {
		w := r.kernel((float64(k-c) - frac) * r.fc)
		if i := k - r.base; i >= 0 && i < int64(len(r.x)) {
			sum += w * r.x[i]
		}
		wsum += w
	}
	r.n++
	r.trim(c - r.half + 1)
	return sum / wsum, true
}

// kernel interpolates the table at |x| (in zero crossings).
func (r *resampler) kernel(x float64) float64 {
	u := math.Abs(x) * sincRes
	i := int(u)
	if i >= sincZeros*sincRes {
		return 0
	}
	f := u - float64(i)
	return r.table[i] + f*(r.table[i+1]-r.table[i])
}

// trim forgets input before index keep, in batches so as not to copy
// on every sample.
func (r *resampler) trim(keep int64) {
	if drop := keep - r.base; drop >= 4096 {
		r.x = append(r.x[:0], r.x[drop:]...)
		r.base = keep
	}
}
