package transfer_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pion/transport/v5/stdnet"
	"github.com/pion/webrtc/v4"

	"soitto/app/transfer"
	"soitto/media"
	"soitto/media/mediatest"
	"soitto/nat"
)

// sessionPeer is one side of a media session as a transfer.Peer: control
// messages on a "ctl" channel the offerer opens, transfers on channels
// of their own.
type sessionPeer struct {
	user string
	s    *media.Session
	mu   sync.Mutex // guards ctl
	ctl  *webrtc.DataChannel
}

func (p *sessionPeer) User() string { return p.user }

func (p *sessionPeer) SendControl(msg []byte) error {
	p.mu.Lock()
	ctl := p.ctl
	p.mu.Unlock()
	return ctl.Send(msg)
}

func (p *sessionPeer) OpenChannel(label string) (transfer.Channel, error) {
	dc, err := p.s.OpenChannel(label)
	if err != nil {
		return nil, err
	}
	return transfer.WrapDataChannel(dc), nil
}

// sessionPair connects alice's and bob's managers over a media session
// opened with configs a and b (as the app's sessions are: media's
// settings, TuneBulk included).
func sessionPair(b *testing.B, a, bc media.Config) *pair {
	root := b.TempDir()
	p := &pair{
		snd:  newSide(b, filepath.Join(root, "alice"), transfer.Config{}),
		rcv:  newSide(b, filepath.Join(root, "bob"), transfer.Config{}),
		dest: filepath.Join(root, "downloads"),
	}
	if err := os.Mkdir(p.dest, 0o700); err != nil {
		b.Fatal(err)
	}
	pa, pb := &sessionPeer{user: "bob"}, &sessionPeer{user: "alice"}
	ctlB := make(chan struct{})
	bc.OnChannel = func(dc *webrtc.DataChannel) {
		if dc.Label() == "ctl" {
			dc.OnMessage(func(m webrtc.DataChannelMessage) { p.rcv.m.HandleControl(pb, m.Data) })
			pb.mu.Lock()
			pb.ctl = dc
			pb.mu.Unlock()
			close(ctlB)
			return
		}
		p.rcv.m.HandleChannel(pb, transfer.WrapDataChannel(dc))
	}
	a.OnChannel = func(dc *webrtc.DataChannel) { p.snd.m.HandleChannel(pa, transfer.WrapDataChannel(dc)) }
	sa, sb := mediatest.Pair(b, a, bc)
	pa.s, pb.s = sa, sb
	ctl, err := sa.OpenChannel("ctl")
	if err != nil {
		b.Fatal(err)
	}
	opened := make(chan struct{})
	ctl.OnOpen(func() { close(opened) })
	ctl.OnMessage(func(m webrtc.DataChannelMessage) { p.snd.m.HandleControl(pa, m.Data) })
	pa.ctl = ctl
	for _, ch := range []chan struct{}{opened, ctlB} {
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			b.Fatal("the control channel did not open")
		}
	}
	p.sessPeer = pa
	return p
}

// BenchmarkSessionTransfer moves a 32 MiB file per op between two
// managers over a real media session on loopback: direct, and relay-only
// through our TURN relay on 127.0.0.1 (its rate limit lifted), with round trips of 0, 20 and
// 50 ms added (mediatest.Impaired delays every datagram each side sends
// by half of it); beside the same bytes over TLS on TCP through a proxy
// that adds the same round trip. The transfer's time includes hashing the
// file, the offer and the receiver's verification and rename; TLS only
// copies.
func BenchmarkSessionTransfer(b *testing.B) {
	const size = 32 << 20
	src, _ := makeFile(b, b.TempDir(), "bench.bin", size, 7)
	users := mediatest.Users(b, "alice", "bob")
	// A super-peer's relay allows an allocation 256 KiB/s each way by
	// default (AllocationRate), which a file transfer fills: 0.25 MB/s
	// measured. Here the limit is lifted to measure the path itself.
	relay, err := nat.NewTURN(nat.TURNConfig{ListenUDP: "127.0.0.1:0", RelayIP: "127.0.0.1", Lab: true,
		AllocationRate: 1 << 30, NodeRate: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { relay.Close() })
	for _, rtt := range []time.Duration{0, 20 * time.Millisecond, 50 * time.Millisecond} {
		for _, path := range []string{"direct", "relay", "tls"} {
			b.Run(path+"/rtt="+rtt.String(), func(b *testing.B) {
				b.SetBytes(size)
				if path == "tls" {
					benchTLSVia(b, src, rtt)
					return
				}
				std, err := stdnet.NewNet()
				if err != nil {
					b.Fatal(err)
				}
				network := &mediatest.Impaired{Net: std, Delay: rtt / 2}
				a, bc := users["alice"].Config("bob"), users["bob"].Config("alice")
				a.Net, bc.Net = network, network
				if path == "relay" {
					for _, c := range []*media.Config{&a, &bc} {
						name, pass, _ := relay.Credentials(c.Remote + "-peer")
						c.RelayOnly = true
						c.ICEServers = []webrtc.ICEServer{{URLs: nat.TURNURLs(relay.UDPAddr().String(), ""), Username: name, Credential: pass}}
					}
				}
				p := sessionPair(b, a, bc)
				b.ResetTimer()
				for range b.N {
					id := sendVia(b, p, p.sessPeer, src)
					e, _ := p.rcv.wait(0, 5*time.Minute, isKind[transfer.Done](id))
					b.StopTimer()
					os.Remove(e.(transfer.Done).Path)
					p.snd.wait(0, 10*time.Second, isKind[transfer.Done](id))
					b.StartTimer()
				}
			})
		}
	}
}

// sendVia offers path from alice over peer and has bob accept it.
func sendVia(t testing.TB, p *pair, peer transfer.Peer, path string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	info, err := p.snd.m.Offer(ctx, peer, path)
	if err != nil {
		t.Fatal(err)
	}
	p.rcv.wait(0, 10*time.Second, isKind[transfer.Offered](info.ID))
	if err := p.rcv.m.Accept(info.ID, p.dest); err != nil {
		t.Fatal(err)
	}
	return info.ID
}

// benchTLSVia copies src over TLS per op, through a proxy on loopback
// that delays each direction by rtt/2.
func benchTLSVia(b *testing.B, src string, rtt time.Duration) {
	cert := selfSigned(b)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	if rtt > 0 {
		addr = delayProxy(b, addr, rtt/2)
	}
	dst := filepath.Join(b.TempDir(), "out.bin")
	done := make(chan error, 1)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f, err := os.Create(dst)
			if err == nil {
				_, err = io.Copy(f, c)
				f.Close()
			}
			c.Close()
			done <- err
		}
	}()
	b.ResetTimer()
	for range b.N {
		c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			b.Fatal(err)
		}
		f, err := os.Open(src)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(c, f); err != nil {
			b.Fatal(err)
		}
		f.Close()
		c.Close()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
}

// delayProxy forwards TCP connections to target on a loopback port,
// holding every chunk for d in each direction. It stops when b ends.
func delayProxy(b *testing.B, target string, d time.Duration) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	b.Cleanup(func() { ln.Close(); wg.Wait() })
	pipe := func(dst, src net.Conn) {
		type chunk struct {
			b  []byte
			at time.Time
		}
		q := make(chan chunk, 1024)
		wg.Go(func() {
			for c := range q {
				time.Sleep(time.Until(c.at))
				if _, err := dst.Write(c.b); err != nil {
					break
				}
			}
			for range q {
			}
			if tc, ok := dst.(*net.TCPConn); ok {
				tc.CloseWrite()
			}
		})
		buf := make([]byte, 64<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				q <- chunk{append([]byte(nil), buf[:n]...), time.Now().Add(d)}
			}
			if err != nil {
				close(q)
				return
			}
		}
	}
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			wg.Go(func() { pipe(up, c) })
			wg.Go(func() { pipe(c, up); c.Close(); up.Close() })
		}
	})
	return ln.Addr().String()
}
