package audiotest

import "math"

// VoiceLike is seconds of a voiced sound at 48 kHz: a pitch gliding
// between 90 and 210 Hz with harmonics whose weights move (vowels
// changing), amplitude-modulated at 4 Hz like syllables. It is
// deterministic and needs no speech synthesizer.
func VoiceLike(seconds float64) []int16 {
	const rate = 48000
	out := make([]int16, int(seconds*rate))
	var phase float64
	for i := range out {
		t := float64(i) / rate
		f0 := 150 + 60*math.Sin(2*math.Pi*1.3*t)
		phase += 2 * math.Pi * f0 / rate
		var v float64
		for h := 1; h <= 12; h++ {
			w := 1 + 0.9*math.Sin(2*math.Pi*(0.7+0.2*float64(h))*t)
			v += w * math.Sin(float64(h)*phase) / float64(h)
		}
		env := 0.5 + 0.5*math.Sin(2*math.Pi*4*t)
		out[i] = int16(5000 * env * v)
	}
	return out
}
