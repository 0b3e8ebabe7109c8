package media

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pion/logging"
	"github.com/pion/transport/v5/vnet"
	"github.com/pion/webrtc/v4"

	"soitto/nat"
)

// BenchmarkOfferToOpen measures a session's setup with Dial and Accept,
// from the offer to the caller's open control channel with the identity
// verified, on pion's vnet: a pair that goes direct (port-restricted ↔
// port-restricted) and one that needs our TURN relay (symmetric ↔
// symmetric), the direct pair again with 10% of packets lost on the WAN
// (so that a direct check is lost now and then), and restricted ↔
// symmetric, direct only once a check from the symmetric side's new
// port has got in (the slowest direct path), at round trips between the two hosts of 100 ms (a
// continent) and 300 ms (intercontinental), with Config.RelayWait none,
// 500 ms, 1 s (DefaultRelayWait) and 2 s (pion's default). Every open is
// in a world of its own. It reports ms/open and relayed/op, the share
// of opens that took the relay (for the direct pair, a relay taken too
// early).
//
//	go test ./media/ -run XXX -bench OfferToOpen -benchtime 5x
func BenchmarkOfferToOpen(b *testing.B) {
	users := newTestCA(b)
	for _, rtt := range []time.Duration{100 * time.Millisecond, 300 * time.Millisecond} {
		for _, c := range []struct {
			name string
			a, b benchNAT
			loss float64
		}{
			{"direct=port-restricted", benchPortRestricted, benchPortRestricted, 0},
			{"direct=port-restricted/loss=10%", benchPortRestricted, benchPortRestricted, 0.1},
			{"direct=restricted-symmetric", benchRestricted, benchSymmetric, 0},
			{"relay=symmetric", benchSymmetric, benchSymmetric, 0},
		} {
			for _, wait := range []time.Duration{-1, 500 * time.Millisecond, time.Second, 2 * time.Second} {
				name := fmt.Sprintf("rtt=%v/%s/wait=%v", rtt, c.name, max(wait, 0))
				b.Run(name, func(b *testing.B) {
					var total time.Duration
					relayed := 0
					for range b.N {
						b.StopTimer()
						w := newBenchWorld(b, rtt, c.loss, c.a, c.b)
						ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
						alice, bob := w.config(users, 0, "alice", "bob", wait), w.config(users, 1, "bob", "alice", wait)
						b.StartTimer()
						p := dialPair(ctx, b, alice, bob)
						b.StopTimer()
						cancel()
						if p.errA != nil || p.errB != nil {
							p.close()
							w.close()
							b.Fatalf("caller %v; callee %v", p.errA, p.errB)
						}
						total += p.setup
						if path, err := p.a.Path(); err == nil && path.Relayed() {
							relayed++
						}
						p.close()
						w.close()
					}
					b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/open")
					b.ReportMetric(float64(relayed)/float64(b.N), "relayed/op")
				})
			}
		}
	}
}

// benchNAT is the NAT a benchmark host sits behind.
type benchNAT int

const (
	benchPortRestricted benchNAT = iota // endpoint-independent mapping, address-and-port-dependent filtering
	benchSymmetric                      // address-and-port-dependent mapping and filtering
	benchRestricted                     // endpoint-independent mapping, address-dependent filtering
)

// benchWorld is a virtual Internet with our STUN server and TURN relay
// on the WAN and two hosts behind NATs. Every router (the WAN's, each
// NAT) delays a packet by a sixth of rtt, so the two hosts are rtt apart
// and a host is two thirds of rtt from the servers. With loss, the WAN
// drops that share of packets, at random.
type benchWorld struct {
	wan   *vnet.Router
	turn  *nat.TURN
	stun  *nat.STUNServer
	hosts [2]*vnet.Net
}

const (
	benchTURN = "27.1.0.1"
	benchSTUN = "27.1.0.2"
)

func newBenchWorld(b *testing.B, rtt time.Duration, loss float64, kinds ...benchNAT) *benchWorld {
	b.Helper()
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	wan, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: "27.1.0.0/16", MinDelay: rtt / 6, LoggerFactory: benchLogs{}})
	must(err)
	servers, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{benchTURN, benchSTUN}})
	must(err)
	must(wan.AddNet(servers))
	if loss > 0 {
		wan.AddChunkFilter(func(vnet.Chunk) bool { return rand.Float64() >= loss })
	}
	w := &benchWorld{wan: wan}
	for i, k := range kinds {
		nt := &vnet.NATType{Mode: vnet.NATModeNormal, MappingLifeTime: time.Minute,
			MappingBehavior: vnet.EndpointIndependent, FilteringBehavior: vnet.EndpointAddrPortDependent}
		switch k {
		case benchSymmetric:
			nt.MappingBehavior = vnet.EndpointAddrPortDependent
		case benchRestricted:
			nt.FilteringBehavior = vnet.EndpointAddrDependent
		}
		lan, err := vnet.NewRouter(&vnet.RouterConfig{
			CIDR: fmt.Sprintf("10.0.%d.0/24", i), StaticIPs: []string{fmt.Sprintf("27.1.1.%d", i+1)},
			NATType: nt, MinDelay: rtt / 6, LoggerFactory: benchLogs{},
		})
		must(err)
		must(wan.AddRouter(lan))
		w.hosts[i], err = vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{fmt.Sprintf("10.0.%d.2", i)}})
		must(err)
		must(lan.AddNet(w.hosts[i]))
	}
	must(wan.Start())
	w.turn, err = nat.NewTURN(nat.TURNConfig{ListenUDP: benchTURN + ":3478", RelayIP: benchTURN, Net: servers, Lab: true})
	must(err)
	w.stun, err = nat.ListenSTUN(nat.STUNConfig{Listen: benchSTUN + ":3478", Net: servers})
	must(err)
	return w
}

func (w *benchWorld) config(users *testCA, i int, user, remote string, relayWait time.Duration) Config {
	name, password, _ := w.turn.Credentials(user)
	return Config{
		Certificate: users.user(user), Roots: users.roots, Remote: remote, Net: w.hosts[i], RelayWait: relayWait,
		ICEServers: []webrtc.ICEServer{
			{URLs: []string{nat.STUNURL(benchSTUN + ":3478")}},
			{URLs: nat.TURNURLs(benchTURN+":3478", ""), Username: name, Credential: password},
		},
	}
}

func (w *benchWorld) close() {
	w.turn.Close()
	w.stun.Close()
	w.wan.Stop()
}

// benchLogs discards vnet's logs.
type benchLogs struct{}

func (benchLogs) NewLogger(string) logging.LeveledLogger {
	return logging.NewDefaultLeveledLoggerForScope("", logging.LogLevelDisabled, io.Discard)
}
