package audio

import (
	"fmt"
	"strconv"
	"strings"
)

// Tone frequencies a spec may ask for: what people hear.
const (
	minToneHz = 20
	maxToneHz = 20000
)

// OpenSource opens the source a command line names:
//
//	FILE.wav       a WAV file (see OpenWAV)
//	tone:HZ        a sine of HZ hertz, 20 to 20000
//	silence        silence
//	default        the system's default microphone
//	default:NAME   the system's microphone NAME (see Devices)
func OpenSource(spec string) (Source, error) {
	switch name, dev := strings.CutPrefix(spec, "default:"); {
	case spec == "default":
		return OpenMic("")
	case dev:
		return OpenMic(name)
	case spec == "silence":
		return Silence(), nil
	case strings.HasPrefix(spec, "tone:"):
		hz, err := strconv.ParseFloat(strings.TrimPrefix(spec, "tone:"), 64)
		if err != nil || !(hz >= minToneHz && hz <= maxToneHz) {
			return nil, fmt.Errorf("audio: source %q: want tone:HZ with HZ from %d to %d", spec, minToneHz, maxToneHz)
		}
		return NewTone(hz), nil
	case isWAVName(spec):
		return OpenWAV(spec)
	}
	return nil, fmt.Errorf("audio: source %q: want FILE.wav, tone:HZ, silence or default", spec)
}

// OpenSink opens the sink a command line names:
//
//	FILE.wav       a WAV file, written when the sink is closed
//	null           nowhere
//	default        the system's default speaker
//	default:NAME   the system's speaker NAME (see Devices)
func OpenSink(spec string) (Sink, error) {
	switch name, dev := strings.CutPrefix(spec, "default:"); {
	case spec == "default":
		return OpenSpeaker("")
	case dev:
		return OpenSpeaker(name)
	case spec == "null":
		return Null(), nil
	case isWAVName(spec):
		return CreateWAV(spec)
	}
	return nil, fmt.Errorf("audio: sink %q: want FILE.wav, null or default", spec)
}

// isWAVName is whether a spec names a WAV file: something before a
// ".wav" of any case.
func isWAVName(spec string) bool {
	return len(spec) > len(".wav") && strings.EqualFold(spec[len(spec)-len(".wav"):], ".wav")
}
