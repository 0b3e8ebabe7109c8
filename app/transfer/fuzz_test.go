package transfer

import (
	"bytes"
	"crypto/sha256"
	"encoding"
	"encoding/json"
	"os"
	"testing"
)

// Seeds are in testdata/fuzz/<Target>/; these add a few built here.

func FuzzDecodeControl(f *testing.F) {
	o := Offer{ID: "0123456789abcdef0123456789abcdef", Name: "a.txt", Size: 5, Chunk: MinChunk}
	f.Add(offerControl(o).Encode())
	f.Add(Control{Kind: KindCancel, ID: o.ID, Reason: "no"}.Encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeControl(b)
		if err != nil {
			if bytes.ContainsAny([]byte(err.Error()), "\n\r") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		// What decodes re-encodes to something that decodes the same.
		c2, err := DecodeControl(c.Encode())
		if err != nil || c2 != c {
			t.Fatalf("round trip: got %+v, %v; want %+v", c2, err, c)
		}
		if c.Kind == KindOffer {
			if err := checkName(c.Offer().Name); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func FuzzDecodeFrame(f *testing.F) {
	f.Add(encodePair(frameReq, 1, 2))
	f.Add(encodePair(frameList, 0, 3))
	f.Add(encodeAck(77))
	d := make([]byte, dataHeader+4)
	putDataHeader(d, 3, 8)
	f.Add(d)
	f.Add(append([]byte{frameHashes, 0, 0, 0, 1}, make([]byte, 64)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := decodeFrame(b)
		if err != nil {
			if bytes.ContainsAny([]byte(err.Error()), "\n\r") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		if len(b) > MaxFrame {
			t.Fatalf("accepted %d bytes", len(b))
		}
		if fr.Kind == frameReq && fr.B <= fr.A {
			t.Fatalf("accepted empty request %d..%d", fr.A, fr.B)
		}
	})
}

func FuzzDecodeInState(f *testing.F) {
	o := Offer{ID: "0123456789abcdef0123456789abcdef", Name: "a.txt", Size: 3 * MinChunk, Chunk: MinChunk}
	fh, _ := sha256.New().(encoding.BinaryMarshaler).MarshalBinary()
	b, _ := json.Marshal(inState{V: stateVersion, User: "bob", Offer: offerControl(o), Dir: "/tmp/x", Have: []byte{1}, Hashed: 1, FileHash: fh})
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeInState(b)
		if err != nil {
			if bytes.ContainsAny([]byte(err.Error()), "\n\r") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		// Whatever passes is safe to use: bitmap length, hashed prefix.
		n := s.Offer.offer().Chunks()
		for i := range n {
			bit(s.Have, i)
		}
		if s.Hashed > n {
			t.Fatalf("hashed %d of %d", s.Hashed, n)
		}
	})
}

func FuzzDecodeOutState(f *testing.F) {
	o := Offer{ID: "0123456789abcdef0123456789abcdef", Name: "a.txt", Size: 3, Chunk: MinChunk}
	b, _ := json.Marshal(outState{V: stateVersion, User: "alice", Offer: offerControl(o), Path: "/tmp/a.txt", ModTime: 1})
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := decodeOutState(b); err != nil && bytes.ContainsAny([]byte(err.Error()), "\n\r") {
			t.Fatalf("error is not one line: %q", err)
		}
	})
}

// FuzzReceiver feeds arbitrary frames to a receiving transfer: it may
// fail, but never panics, writes outside its part file, or claims a
// chunk that does not match its hash.
func FuzzReceiver(f *testing.F) {
	d := make([]byte, dataHeader+16)
	putDataHeader(d, 0, 0)
	f.Add(d, d)
	f.Add(append([]byte{frameHashes, 0, 0, 0, 0}, make([]byte, 64)...), d)
	f.Fuzz(func(t *testing.T, a, b []byte) {
		dir := t.TempDir()
		m, err := NewManager(Config{StateDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		data := bytes.Repeat([]byte("x"), 2*MinChunk+10)
		var list []byte
		for i := 0; i*MinChunk < len(data); i++ {
			s := sha256.Sum256(data[i*MinChunk : min(len(data), (i+1)*MinChunk)])
			list = append(list, s[:]...)
		}
		o := Offer{ID: "0123456789abcdef0123456789abcdef", Name: "a.txt", Size: int64(len(data)), Chunk: MinChunk,
			SHA256: sha256.Sum256(data), Root: sha256.Sum256(list)}
		tr := newIncoming(m, nopPeer{}, o)
		tr.accepted = true
		fh, _ := sha256.New().(encoding.BinaryMarshaler).MarshalBinary()
		tr.st = inState{V: stateVersion, User: "bob", Offer: offerControl(o), Dir: dir, Have: make([]byte, 1), FileHash: fh}
		tr.fileH = sha256.New()
		tr.f, err = createTemp(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer tr.f.Close()
		for _, msg := range [][]byte{a, b} {
			fr, err := decodeFrame(msg)
			if err != nil {
				continue
			}
			if _, _, err := tr.takeLocked(fr); err != nil {
				return
			}
		}
		for i := range o.Chunks() {
			if bit(tr.st.Have, i) && tr.hashes == nil {
				t.Fatal("a chunk verified without a hash list")
			}
		}
	})
}

type nopPeer struct{}

func (nopPeer) User() string                        { return "bob" }
func (nopPeer) SendControl([]byte) error            { return nil }
func (nopPeer) OpenChannel(string) (Channel, error) { return nil, errNotOpen }

func createTemp(dir string) (*os.File, error) { return os.CreateTemp(dir, "part") }
