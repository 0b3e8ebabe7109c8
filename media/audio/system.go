//go:build cgo

package audio

// #include <stdlib.h>
import "C"

import (
	"fmt"
	"strings"
	"unsafe"

	"github.com/gen2brain/malgo"
)

// backends are the systems miniaudio may use, in order. Never
// malgo.BackendNull: it would "succeed" with no device at all (and
// malgo's constant for it is off by one: it names ma_backend_custom).
var backends = []malgo.Backend{malgo.BackendPulseaudio, malgo.BackendAlsa}

// Device timing: 10 ms periods, three of them buffered, keep the
// device's share of a call's latency near 30 ms.
const (
	periodMillis = 10
	periods      = 3
)

// newContext starts miniaudio on the first backend that works.
func newContext() (*malgo.AllocatedContext, error) {
	ctx, err := malgo.InitContext(backends, malgo.ContextConfig{}, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: neither PulseAudio nor ALSA answers (%v)", ErrNoDevice, err)
	}
	return ctx, nil
}

func freeContext(ctx *malgo.AllocatedContext) {
	ctx.Uninit()
	ctx.Free()
}

// Devices lists the system's microphones (capture) and speakers
// (playback).
func Devices() (capture, playback []DeviceInfo, err error) {
	ctx, err := newContext()
	if err != nil {
		return nil, nil, err
	}
	defer freeContext(ctx)
	list := func(kind malgo.DeviceType) ([]DeviceInfo, error) {
		infos, err := ctx.Devices(kind)
		if err != nil {
			return nil, fmt.Errorf("audio: listing devices: %w", err)
		}
		out := make([]DeviceInfo, len(infos))
		for i, d := range infos {
			out[i] = DeviceInfo{Name: d.Name(), ID: deviceID(d.ID), Default: d.IsDefault != 0}
		}
		return out, nil
	}
	if capture, err = list(malgo.Capture); err != nil {
		return nil, nil, err
	}
	if playback, err = list(malgo.Playback); err != nil {
		return nil, nil, err
	}
	return capture, playback, nil
}

// deviceID is the text of a miniaudio device ID: PulseAudio and ALSA
// keep a name there. Another backend's binary ID comes out in hex.
func deviceID(id malgo.DeviceID) string {
	s := strings.TrimRight(string(id[:]), "\x00")
	for _, r := range s {
		if r < ' ' || r > '~' {
			return id.String()
		}
	}
	return s
}

// what names a device kind in errors.
func what(kind malgo.DeviceType) string {
	if kind == malgo.Capture {
		return "microphone"
	}
	return "speaker"
}

// openDevice opens and starts the device of kind named name ("" for
// the default) with cfg and callbacks. Whoever gets the device owns ctx
// and closes both, device first.
func openDevice(kind malgo.DeviceType, name string, cfg malgo.DeviceConfig, cb malgo.DeviceCallbacks) (*malgo.AllocatedContext, *malgo.Device, error) {
	ctx, err := newContext()
	if err != nil {
		return nil, nil, err
	}
	label := "default " + what(kind)
	if name != "" {
		label = fmt.Sprintf("%s %q", what(kind), name)
		id, err := findDevice(ctx, kind, name)
		if err != nil {
			freeContext(ctx)
			return nil, nil, err
		}
		// miniaudio reads the ID during InitDevice only; it must be C
		// memory, as cgo forbids a Go pointer inside the config.
		defer C.free(id)
		if kind == malgo.Capture {
			cfg.Capture.DeviceID = id
		} else {
			cfg.Playback.DeviceID = id
		}
	}
	dev, err := malgo.InitDevice(ctx.Context, cfg, cb)
	if err != nil {
		freeContext(ctx)
		return nil, nil, fmt.Errorf("%w: %s: %v", ErrNoDevice, label, err)
	}
	if err := dev.Start(); err != nil {
		dev.Uninit()
		freeContext(ctx)
		return nil, nil, fmt.Errorf("%w: %s does not start: %v", ErrNoDevice, label, err)
	}
	return ctx, dev, nil
}

// findDevice returns a C copy of the ID of the device whose ID or name
// is name.
func findDevice(ctx *malgo.AllocatedContext, kind malgo.DeviceType, name string) (unsafe.Pointer, error) {
	infos, err := ctx.Devices(kind)
	if err != nil {
		return nil, fmt.Errorf("%w: listing devices: %v", ErrNoDevice, err)
	}
	for _, d := range infos {
		if deviceID(d.ID) == name {
			return d.ID.Pointer(), nil
		}
	}
	for _, d := range infos {
		if d.Name() == name {
			return d.ID.Pointer(), nil
		}
	}
	return nil, fmt.Errorf("%w: no %s %q among the system's %d", ErrNoDevice, what(kind), name, len(infos))
}

// deviceConfig is the package's format on a device of kind.
func deviceConfig(kind malgo.DeviceType) malgo.DeviceConfig {
	cfg := malgo.DefaultDeviceConfig(kind)
	sub := &cfg.Playback
	if kind == malgo.Capture {
		sub = &cfg.Capture
	}
	sub.Format = malgo.FormatS16
	sub.Channels = Channels
	cfg.SampleRate = SampleRate
	cfg.PeriodSizeInMilliseconds = periodMillis
	cfg.Periods = periods
	return cfg
}
