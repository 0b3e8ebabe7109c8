package media

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pion/dtls/v3"
	"github.com/pion/ice/v4"
	"github.com/pion/logging"
	"github.com/pion/webrtc/v4"
)

// settingEngine is pion's configuration for cfg: the network, the ICE
// waits, no multicast DNS, and AES-GCM only for DTLS and SRTP.
func settingEngine(cfg Config, log *slog.Logger) webrtc.SettingEngine {
	var se webrtc.SettingEngine
	se.LoggerFactory = pionLogs{log}
	if err := TuneBulk(&se, cfg.Net); err != nil {
		log.Warn("no network for larger socket buffers", "err", err)
		if cfg.Net != nil {
			se.SetNet(cfg.Net)
		}
	}
	switch {
	case cfg.RelayWait > 0:
		se.SetRelayAcceptanceMinWait(cfg.RelayWait)
	case cfg.RelayWait < 0, cfg.RelayOnly:
		// Set even for RelayOnly: pion means relay-only agents not to
		// wait, but through webrtc (NewAgentWithOptions) it picks the
		// wait before the candidate types, so they waited 2 s.
		se.SetRelayAcceptanceMinWait(0)
	default:
		se.SetRelayAcceptanceMinWait(DefaultRelayWait)
	}
	if cfg.Audio {
		// A call whose path is gone is over sooner than pion's 30 s:
		// disconnected after 5 s without a check answered, failed 10 s
		// later (a Wi-Fi roam survives; a crashed peer ends the call).
		se.SetICETimeouts(audioDisconnected, audioFailed, audioKeepalive)
	}
	// No multicast DNS: host candidates carry real addresses, and no
	// query leaves for 224.0.0.251.
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	if cfg.IPFilter != nil {
		se.SetIPFilter(cfg.IPFilter)
		se.SetIncludeLoopbackCandidate(true)
	}
	se.SetDTLSCipherSuites(dtls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)
	se.SetSRTPProtectionProfiles(dtls.SRTP_AEAD_AES_256_GCM)
	return se
}

// pionLogs sends pion's logs to the session's logger, at debug level:
// what matters to the user, the session reports itself.
type pionLogs struct{ log *slog.Logger }

func (f pionLogs) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{f.log.With("pion", scope)}
}

type pionLogger struct{ l *slog.Logger }

func (l pionLogger) logf(format string, args ...any) {
	if l.l.Enabled(context.Background(), slog.LevelDebug) {
		l.l.Debug(fmt.Sprintf(format, args...))
	}
}

func (pionLogger) Trace(string)                {}
func (pionLogger) Tracef(string, ...any)       {}
func (pionLogger) Debug(string)                {}
func (pionLogger) Debugf(string, ...any)       {}
func (l pionLogger) Info(m string)             { l.logf("%s", m) }
func (l pionLogger) Infof(f string, a ...any)  { l.logf(f, a...) }
func (l pionLogger) Warn(m string)             { l.logf("%s", m) }
func (l pionLogger) Warnf(f string, a ...any)  { l.logf(f, a...) }
func (l pionLogger) Error(m string)            { l.logf("%s", m) }
func (l pionLogger) Errorf(f string, a ...any) { l.logf(f, a...) }
