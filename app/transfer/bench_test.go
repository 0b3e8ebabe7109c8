package transfer_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"testing"
	"time"

	"github.com/pion/transport/v5/stdnet"
	"github.com/pion/webrtc/v4"

	"soitto/app/transfer"
	"soitto/app/transfer/transfertest"
	"soitto/media"
)

const benchSize = 64 << 20

// BenchmarkTransfer sends a 64 MiB file per op over loopback WebRTC
// (offer, hash, data, verify, rename), with pion's defaults and with
// each tuning step, and the same bytes over TLS on TCP for comparison.
func BenchmarkTransfer(b *testing.B) {
	src, _ := makeFile(b, b.TempDir(), "bench.bin", benchSize, 42)
	steps := []struct {
		name string
		cfg  transfer.Config
		tune func(*webrtc.SettingEngine)
	}{
		{"pion-defaults", transfer.Config{}, nil},
		{"rcvbuf16m", transfer.Config{}, rcv(16<<20, false)},
		{"rcvbuf16m-sockbuf4m", transfer.Config{}, sock(rcv(16<<20, false))},
		{"rcvbuf16m-sockbuf4m-high16m", transfer.Config{HighWater: 16 << 20, LowWater: 8 << 20}, sock(rcv(16<<20, false))},
		{"rcvbuf16m-sockbuf4m-frame16k", transfer.Config{FrameSize: 16 << 10}, sock(rcv(16<<20, false))},
		{"rcvbuf16m-sockbuf4m-zerocsum", transfer.Config{}, sock(rcv(16<<20, true))},
		{"tuned", transfer.Config{}, transfer.TuneSettingEngine},
	}
	for _, s := range steps {
		b.Run(s.name, func(b *testing.B) {
			p := newPair(b, s.cfg, transfertest.Options{Tune: s.tune})
			b.SetBytes(benchSize)
			b.ResetTimer()
			for range b.N {
				id := send(b, p, src)
				e, _ := p.rcv.wait(0, 5*time.Minute, isKind[transfer.Done](id))
				b.StopTimer()
				os.Remove(e.(transfer.Done).Path)
				p.snd.wait(0, 10*time.Second, isKind[transfer.Done](id))
				b.StartTimer()
			}
		})
	}
	b.Run("tls-tcp", func(b *testing.B) {
		benchTLS(b, src)
	})
}

func rcv(n uint32, zero bool) func(*webrtc.SettingEngine) {
	return func(se *webrtc.SettingEngine) {
		se.SetSCTPMaxReceiveBufferSize(n)
		se.EnableSCTPZeroChecksum(zero)
	}
}

func sock(then func(*webrtc.SettingEngine)) func(*webrtc.SettingEngine) {
	return func(se *webrtc.SettingEngine) {
		n, err := stdnet.NewNet()
		if err != nil {
			panic(err)
		}
		se.SetNet(media.WithSocketBuffers(n, media.SocketBuffer))
		if then != nil {
			then(se)
		}
	}
}

// benchTLS copies the file over TLS 1.3 on a 127.0.0.1 TCP connection
// into a file, per op.
func benchTLS(b *testing.B, src string) {
	b.SetBytes(benchSize)
	benchTLSVia(b, src, 0)
}

func selfSigned(b *testing.B) tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bench"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		b.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
