package audio

// DeviceInfo is one of the system's sound devices, as Devices lists
// them.
type DeviceInfo struct {
	// Name is what the system shows people ("Monitor of Null Output").
	Name string
	// ID is what the system calls it inside: PulseAudio's sink or
	// source name ("alsa_output.pci-0000_00_1f.3.analog-stereo"),
	// ALSA's "hw:0,0". OpenMic and OpenSpeaker take either.
	ID string
	// Default is whether it is the system's default for its direction.
	Default bool
}

// DeviceStats counts the sound a system device lost. The Source of
// OpenMic and the Sink of OpenSpeaker have a method
//
//	Stats() DeviceStats
//
// that returns them.
type DeviceStats struct {
	// Overruns is how many times sound was dropped because it came
	// faster than it went: a microphone's Read fell behind, or a
	// speaker's Write ran more than its buffer ahead.
	Overruns uint64
	// Underruns is how many times a speaker's device wanted more sound
	// than had been written and played silence instead.
	Underruns uint64
}
