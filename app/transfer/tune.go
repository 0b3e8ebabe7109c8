package transfer

import (
	"github.com/pion/webrtc/v4"

	"soitto/media"
)

// TuneSettingEngine sets se up for bulk data channels as every media
// session is (media.TuneBulk: SCTP receive buffer, UDP socket buffers on
// the real network), for PeerConnections made outside package media
// (tests and benchmarks).
func TuneSettingEngine(se *webrtc.SettingEngine) {
	media.TuneBulk(se, nil)
}
