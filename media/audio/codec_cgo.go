//go:build cgo

package audio

import (
	"fmt"

	"gopkg.in/hraban/opus.v2"
)

type opusEncoder struct{ e *opus.Encoder }

// NewEncoder is an Opus encoder for voice: 48 kHz mono, VoIP mode,
// in-band FEC on, DefaultBitrate.
func NewEncoder() (Encoder, error) {
	e, err := opus.NewEncoder(SampleRate, Channels, opus.AppVoIP)
	if err != nil {
		return nil, fmt.Errorf("audio: opus encoder: %w", err)
	}
	for _, set := range []func() error{
		func() error { return e.SetBitrate(DefaultBitrate) },
		func() error { return e.SetComplexity(encoderComplexity) },
		func() error { return e.SetInBandFEC(true) },
		func() error { return e.SetPacketLossPerc(0) },
	} {
		if err := set(); err != nil {
			return nil, fmt.Errorf("audio: opus encoder: %w", err)
		}
	}
	return opusEncoder{e}, nil
}

func (o opusEncoder) Encode(frame []int16, packet []byte) (int, error) {
	if len(frame) != FrameSamples {
		return 0, fmt.Errorf("audio: encoding a frame of %d samples, want %d", len(frame), FrameSamples)
	}
	n, err := o.e.Encode(frame, packet)
	if err != nil {
		return 0, fmt.Errorf("audio: opus encode: %w", err)
	}
	return n, nil
}

func (o opusEncoder) SetLoss(percent int) error {
	percent = min(max(percent, 0), 100)
	return o.e.SetPacketLossPerc(percent)
}

func (o opusEncoder) SetBitrate(bps int) error { return o.e.SetBitrate(bps) }

type opusDecoder struct{ d *opus.Decoder }

// NewDecoder is an Opus decoder to 48 kHz mono.
func NewDecoder() (Decoder, error) {
	d, err := opus.NewDecoder(SampleRate, Channels)
	if err != nil {
		return nil, fmt.Errorf("audio: opus decoder: %w", err)
	}
	return opusDecoder{d}, nil
}

func (o opusDecoder) Decode(packet []byte, frame []int16) error {
	if len(packet) == 0 || len(packet) > MaxPacket {
		return fmt.Errorf("audio: opus packet of %d bytes", len(packet))
	}
	n, err := o.d.Decode(packet, frame)
	if err != nil {
		return fmt.Errorf("audio: opus decode: %w", err)
	}
	if n != len(frame) {
		// Another frame size than ours: fill what is missing with
		// silence rather than playing stale samples.
		clear(frame[min(n, len(frame)):])
	}
	return nil
}

func (o opusDecoder) DecodeFEC(packet []byte, frame []int16) error {
	if len(packet) == 0 || len(packet) > MaxPacket {
		return fmt.Errorf("audio: opus packet of %d bytes", len(packet))
	}
	if err := o.d.DecodeFEC(packet, frame); err != nil {
		return fmt.Errorf("audio: opus FEC: %w", err)
	}
	return nil
}

func (o opusDecoder) Conceal(frame []int16) error {
	if err := o.d.DecodePLC(frame); err != nil {
		return fmt.Errorf("audio: opus concealment: %w", err)
	}
	return nil
}

// SetFEC turns in-band FEC on or off.
func (o opusEncoder) SetFEC(on bool) error { return o.e.SetInBandFEC(on) }
