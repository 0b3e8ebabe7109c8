package ui

import (
	"context"

	"fyne.io/fyne/v2/widget"

	"soitto/media/audio"
)

// systemDefault is the device choice that follows the system's default.
const systemDefault = "System default"

// Preferences that keep the device choice.
const (
	prefMic     = "microphone"
	prefSpeaker = "speaker"
)

// restoreDevices hands the saved device choice to the client.
func (u *UI) restoreDevices() {
	p := u.app.Preferences()
	u.client.SetSoundDevices(p.String(prefMic), p.String(prefSpeaker))
}

// loadDevices lists the system's microphones and speakers (off Fyne's
// goroutine) into the account dialog's menus.
func (h *homeScreen) loadDevices() {
	h.u.async(func(context.Context) {
		mics, spks, err := h.u.client.SoundDevices()
		h.u.post(func() {
			p := h.u.app.Preferences()
			h.settingDevices = true
			defer func() { h.settingDevices = false }()
			fill(h.mic, mics, p.String(prefMic), err)
			fill(h.speaker, spks, p.String(prefSpeaker), err)
		})
	})
}

// fill puts the devices in s, with the system's default first, and
// selects chosen.
func fill(s *widget.Select, devs []audio.DeviceInfo, chosen string, err error) {
	opts := []string{systemDefault}
	for _, d := range devs {
		opts = append(opts, d.Name)
	}
	s.SetOptions(opts)
	if err != nil {
		s.PlaceHolder = "No sound devices"
		s.Disable()
		s.ClearSelected()
		return
	}
	s.Enable()
	if chosen == "" {
		s.SetSelected(systemDefault)
	} else {
		s.SetSelected(chosen)
	}
}

// devicesPicked saves the menus' choice and hands it to the client.
func (h *homeScreen) devicesPicked() {
	if h.settingDevices {
		return
	}
	pick := func(s *widget.Select) string {
		if s.Selected == systemDefault {
			return ""
		}
		return s.Selected
	}
	mic, spk := pick(h.mic), pick(h.speaker)
	p := h.u.app.Preferences()
	p.SetString(prefMic, mic)
	p.SetString(prefSpeaker, spk)
	h.u.client.SetSoundDevices(mic, spk)
}
