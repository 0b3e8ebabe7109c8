package presence

import (
	"crypto/ecdsa"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"soitto/login/ca"
	"soitto/overlay"
	"soitto/overlay/dir"
	"soitto/overlay/wire"
)

func TestRecordRoundTrip(t *testing.T) {
	authority, err := ca.Create(t.TempDir(), "test")
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(authority.Cert)
	key, _ := ca.GenerateKey()
	cert, err := authority.IssueUser("bob", &key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	sp := overlay.NewNode("198.18.0.1:7600")
	now := time.Now()
	for _, st := range []Status{Online, Away, DND, Invisible, Offline, Hidden} {
		r, err := Record("bob", st, sp, 7, now.Add(TTL), key, cert.Raw)
		if err != nil {
			t.Fatal(err)
		}
		info, err := Decode(r, roots, now)
		if err != nil {
			t.Fatalf("%v: %v", st, err)
		}
		if info.User != "bob" || info.Status != st.Published() || info.Seq != 7 {
			t.Errorf("%v decoded as %+v", st, info)
		}
		online := st.Published() != Offline
		if info.Online() != online || (info.SuperPeer == sp) != (online || st == Hidden) || info.Hidden() != (st == Hidden) {
			t.Errorf("%v: online %v, hidden %v, super-peer %v", st, info.Online(), info.Hidden(), info.SuperPeer)
		}
	}
	if _, err := Record("bob", Online, overlay.Node{}, 1, now.Add(TTL), key, cert.Raw); err == nil {
		t.Error("an online record without a super-peer was made")
	}
	// Online with no super-peer, signed properly, is refused on reading.
	r, _ := Record("bob", Offline, sp, 8, now.Add(TTL), key, cert.Raw)
	r.Payload, _ = proto.Marshal(&wire.Presence{Status: wire.Status_STATUS_ONLINE})
	resign(t, r, key, cert.Raw)
	if _, err := Decode(r, roots, now); !errors.Is(err, wire.ErrBadRecord) {
		t.Errorf("online without super-peer: %v", err)
	}
	// A super-peer whose ID is not SHA-1 of its address.
	r.Payload, _ = proto.Marshal(&wire.Presence{Status: wire.Status_STATUS_ONLINE, SuperPeer: &wire.NodeInfo{Id: make([]byte, 20), Addr: sp.Addr}})
	resign(t, r, key, cert.Raw)
	if _, err := Decode(r, roots, now); !errors.Is(err, wire.ErrBadRecord) {
		t.Errorf("bad super-peer ID: %v", err)
	}
}

func TestParseStatus(t *testing.T) {
	for _, st := range []Status{Offline, Online, Away, DND, Invisible} {
		if got, err := ParseStatus(st.String()); err != nil || got != st {
			t.Errorf("%v: %v %v", st, got, err)
		}
	}
	if _, err := ParseStatus("busy"); err == nil {
		t.Error("busy parsed")
	}
}

func FuzzDecodePayload(f *testing.F) {
	b, _ := proto.Marshal(&wire.Presence{Status: wire.Status_STATUS_AWAY, SuperPeer: overlay.NewNode("198.18.0.1:1").ToWire()})
	f.Add(b)
	f.Add([]byte{})
	f.Add([]byte{0x08, 0x63})
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := DecodePayload(data)
		if err != nil {
			if len(data) <= MaxPayload && !errors.Is(err, wire.ErrBadRecord) {
				t.Fatalf("error %v does not say bad record", err)
			}
			return
		}
		if len(data) > MaxPayload {
			t.Fatal("oversized payload accepted")
		}
		_, _ = fromWire(p.Status)
		_, _ = overlay.NodeFromWire(p.SuperPeer)
	})
}

func resign(t *testing.T, r *wire.Record, key *ecdsa.PrivateKey, cert []byte) {
	t.Helper()
	if err := dir.Sign(r, key, cert); err != nil {
		t.Fatal(err)
	}
}

// A hidden record says offline to everyone but names the super-peer.
func TestHiddenRecord(t *testing.T) {
	if _, err := ParseStatus("hidden"); err == nil {
		t.Error("hidden parsed as a status a user may choose")
	}
	if Hidden.Published() != Offline {
		t.Errorf("hidden publishes %v", Hidden.Published())
	}
}
