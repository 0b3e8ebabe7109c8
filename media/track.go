package media

import (
	"fmt"
	"strings"

	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
)

// opusCodec is the one codec sessions offer: Opus, 48 kHz (SDP always
// says two channels for Opus; we send mono), in-band FEC, 20 ms frames.
var opusCodec = webrtc.RTPCodecParameters{
	RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType:    webrtc.MimeTypeOpus,
		ClockRate:   48000,
		Channels:    2,
		SDPFmtpLine: "minptime=20;useinbandfec=1;stereo=0;sprop-stereo=0",
	},
	PayloadType: 111,
}

// mediaEngine is pion's codec table (Opus only) and its RTP pipeline:
// RTCP sender and receiver reports, which carry the loss the encoder's
// FEC is tuned to, and cfg.Interceptors.
func mediaEngine(cfg Config) (*webrtc.MediaEngine, *interceptor.Registry, error) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterCodec(opusCodec, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, nil, fmt.Errorf("media: codec: %w", err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return nil, nil, fmt.Errorf("media: RTCP reports: %w", err)
	}
	for _, f := range cfg.Interceptors {
		ir.Add(f)
	}
	return me, ir, nil
}

// addAudio adds the session's outgoing audio track.
func (s *Session) addAudio() error {
	tr, err := webrtc.NewTrackLocalStaticSample(opusCodec.RTPCodecCapability, "audio", "soitto")
	if err != nil {
		return fmt.Errorf("media: audio track: %w", err)
	}
	sender, err := s.pc.AddTrack(tr)
	if err != nil {
		return fmt.Errorf("media: audio track: %w", err)
	}
	s.mu.Lock()
	s.audioOut, s.sender = tr, sender
	s.mu.Unlock()
	return nil
}

// offersAudio tells whether an SDP has an audio m-line that sends.
func offersAudio(sdp string) bool {
	return strings.Contains(sdp, "\nm=audio ") || strings.HasPrefix(sdp, "m=audio ")
}
