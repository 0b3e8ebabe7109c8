package app

import (
	"bytes"
	"time"

	"soitto/media/audio"
)

// ringFor bounds a ringtone, whatever the call does.
const ringFor = 2 * DefaultRingTimeout

// playRingtone plays the configured ringtone on the system's speaker,
// over and over, while call k rings here. No ringtone configured, or no
// speaker: nothing (the window still shows the call).
func (c *Client) playRingtone(o *online, k *call) {
	if len(c.cfg.Ringtone) == 0 {
		return
	}
	pcm, _, err := audio.DecodeWAV(bytes.NewReader(c.cfg.Ringtone))
	if err != nil || len(pcm) < audio.FrameSamples {
		c.log.Warn("ringtone unreadable", "err", err)
		return
	}
	c.mu.Lock()
	name := c.speakerName
	c.mu.Unlock()
	spk, err := audio.OpenSpeaker(name)
	if err != nil {
		c.log.Info("no speaker for the ringtone", "err", err)
		return
	}
	defer spk.Close()
	t := time.NewTicker(audio.FrameDuration)
	defer t.Stop()
	deadline := time.Now().Add(ringFor)
	frame := make([]int16, audio.FrameSamples)
	for pos := 0; time.Now().Before(deadline); pos = (pos + audio.FrameSamples) % (len(pcm) - len(pcm)%audio.FrameSamples) {
		o.calls.mu.Lock()
		ringing := k.info.State == CallRinging
		o.calls.mu.Unlock()
		if !ringing {
			return
		}
		copy(frame, pcm[pos:])
		if err := spk.Write(frame); err != nil {
			return
		}
		<-t.C
	}
}
