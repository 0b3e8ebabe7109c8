package app

import (
	"errors"
	"fmt"

	"soitto/media/audio"
)

// nullDevices is silence in and nothing out, for a call answered
// without devices.
func nullDevices() (audio.Source, audio.Sink, error) {
	return audio.Silence(), audio.Null(), nil
}

// OpenDevices opens the devices named as on the command line (SRC and
// SINK: a WAV file, tone:HZ, silence, null, default).
func OpenDevices(src, sink string) AudioDevices {
	return func() (audio.Source, audio.Sink, error) {
		mic, err := audio.OpenSource(src)
		if err != nil {
			return nil, nil, err
		}
		spk, err := audio.OpenSink(sink)
		if err != nil {
			mic.Close()
			return nil, nil, err
		}
		return mic, spk, nil
	}
}

// DeviceWarning says that a call goes on without a sound device the
// system could not open.
type DeviceWarning struct{ Text string }

func (DeviceWarning) isEvent() {}

// SystemDevices opens the system's default microphone and speaker, with
// echo cancellation, noise suppression and level control when echo is
// set (for speakers and a microphone in one room: a laptop). A device
// that cannot be opened is replaced by silence (or nothing) and a
// DeviceWarning says so: the call still connects.
func (c *Client) SystemDevices(echo bool) AudioDevices {
	return func() (audio.Source, audio.Sink, error) {
		c.mu.Lock()
		micName, spkName := c.micName, c.speakerName
		c.mu.Unlock()
		mic, err := audio.OpenMic(micName)
		if err != nil {
			c.events.publish(DeviceWarning{Text: fmt.Sprintf("No microphone (%v): the other side hears silence", err)})
			mic = audio.Silence()
		}
		spk, err := audio.OpenSpeaker(spkName)
		if err != nil {
			c.events.publish(DeviceWarning{Text: fmt.Sprintf("No speaker (%v): you will not hear the other side", err)})
			spk = audio.Null()
		}
		if !echo {
			return mic, spk, nil
		}
		m, s, _, err := audio.WithEcho(mic, spk, audio.EchoOptions{Denoise: true, AGC: true})
		if errors.Is(err, audio.ErrNoCgo) {
			return mic, spk, nil
		}
		if err != nil {
			mic.Close()
			spk.Close()
			return nil, nil, err
		}
		return m, s, nil
	}
}

// SetSoundDevices chooses the system's microphone and speaker by name
// (see SoundDevices) for the calls to come; "" is the system's default.
func (c *Client) SetSoundDevices(mic, speaker string) {
	c.mu.Lock()
	c.micName, c.speakerName = mic, speaker
	c.mu.Unlock()
}

// SoundDevices lists the system's microphones and speakers.
func (c *Client) SoundDevices() (mics, speakers []audio.DeviceInfo, err error) {
	return audio.Devices()
}
