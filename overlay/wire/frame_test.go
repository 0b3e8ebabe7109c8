package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
)

func frame(body []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	return append(b, body...)
}

func TestFrameRoundTrip(t *testing.T) {
	for _, e := range []*Envelope{
		{Body: &Envelope_Hello{Hello: &Hello{Version: Version, Node: &NodeInfo{Id: make([]byte, 20), Addr: "192.0.2.1:4000"}}}},
		{Id: 7, Body: &Envelope_Ping{Ping: &PingRequest{}}},
		{Id: 7, Response: true, Error: &Error{Code: CodeNotFound, Message: "no such user"}},
		{Id: 1 << 63, Body: &Envelope_Put{Put: &PutRequest{Record: &Record{Kind: "presence", Name: "alice", Seq: 3, Payload: bytes.Repeat([]byte{1}, 2048)}}}},
	} {
		var buf bytes.Buffer
		if err := WriteFrame(&buf, e); err != nil {
			t.Fatal(err)
		}
		got, err := ReadFrame(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(got, e) {
			t.Errorf("got %v, want %v", got, e)
		}
		if buf.Len() != 0 {
			t.Errorf("%d bytes left over", buf.Len())
		}
	}
}

// largest returns a Put whose frame is exactly MaxFrame bytes plus extra.
func largest(t *testing.T, extra int) *Envelope {
	t.Helper()
	e := &Envelope{Id: 1, Body: &Envelope_Put{Put: &PutRequest{Record: &Record{}}}}
	rec := e.GetPut().Record
	// The varint lengths grow with the payload, so settle by iterating.
	for range 5 {
		rec.Payload = make([]byte, len(rec.Payload)+MaxFrame+extra-proto.Size(e))
	}
	if got := proto.Size(e); got != MaxFrame+extra {
		t.Fatalf("size %d, want %d", got, MaxFrame+extra)
	}
	return e
}

func TestFrameLimits(t *testing.T) {
	t.Run("write at the limit", func(t *testing.T) {
		var buf bytes.Buffer
		if err := WriteFrame(&buf, largest(t, 0)); err != nil {
			t.Fatalf("got %v, want nil", err)
		}
		if buf.Len() != 4+MaxFrame {
			t.Errorf("got %d bytes, want %d", buf.Len(), 4+MaxFrame)
		}
		if _, err := ReadFrame(&buf); err != nil {
			t.Errorf("reading it back: %v", err)
		}
	})
	t.Run("write over the limit", func(t *testing.T) {
		var buf bytes.Buffer
		err := WriteFrame(&buf, largest(t, 1))
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("got %v, want ErrTooLarge", err)
		}
		if buf.Len() != 0 {
			t.Errorf("wrote %d bytes of a refused frame", buf.Len())
		}
	})
	t.Run("write invalid UTF-8", func(t *testing.T) {
		var buf bytes.Buffer
		err := WriteFrame(&buf, &Envelope{Id: 1, Body: &Envelope_Get{Get: &GetRequest{Name: "\xff"}}})
		if !errors.Is(err, ErrBadRequest) || buf.Len() != 0 {
			t.Errorf("got %v and %d bytes, want ErrBadRequest and none", err, buf.Len())
		}
	})

	ping, _ := proto.Marshal(&Envelope{Id: 9, Body: &Envelope_Ping{Ping: &PingRequest{}}})
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"clean end", nil, io.EOF},
		{"truncated prefix", []byte{0, 0}, io.ErrUnexpectedEOF},
		{"prefix only", []byte{0, 0, 0, 5}, io.ErrUnexpectedEOF},
		{"truncated body", frame(ping)[:len(ping)], io.ErrUnexpectedEOF},
		{"one over the limit", binary.BigEndian.AppendUint32(nil, MaxFrame+1), ErrTooLarge},
		{"4 GiB prefix", []byte{0xff, 0xff, 0xff, 0xff}, ErrTooLarge},
		{"zero length", []byte{0, 0, 0, 0}, ErrBadRequest},
		{"not protobuf", frame([]byte{0xff, 0xff, 0xff}), ErrBadRequest},
		{"invalid UTF-8 string", frame([]byte{0xfa, 0x01, 3, 0x12, 1, 0xff}), ErrBadRequest}, // get{name:"\xff"}
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadFrame(bytes.NewReader(tc.in))
			if !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// TestReadFrameRefusesBeforeAllocating reads a 4 GiB length prefix and
// checks that nothing near that size was allocated.
func TestReadFrameRefusesBeforeAllocating(t *testing.T) {
	in := []byte{0xff, 0xff, 0xff, 0xff}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 100 {
		if _, err := ReadFrame(bytes.NewReader(in)); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("got %v, want ErrTooLarge", err)
		}
	}
	runtime.ReadMemStats(&after)
	if d := after.TotalAlloc - before.TotalAlloc; d > MaxFrame {
		t.Errorf("100 refusals allocated %d bytes", d)
	}
}

func TestReadFrameKeepsUnknownFields(t *testing.T) {
	// Envelope{id:5} followed by field 99 (varint 1), as a newer peer might send.
	body := []byte{0x08, 5, 0x98, 0x06, 1}
	e, err := ReadFrame(bytes.NewReader(frame(body)))
	if err != nil {
		t.Fatal(err)
	}
	if e.Body != nil || len(e.ProtoReflect().GetUnknown()) != 3 {
		t.Errorf("got body %v and %d unknown bytes, want none and 3", e.Body, len(e.ProtoReflect().GetUnknown()))
	}
	var buf bytes.Buffer
	if err := WriteFrame(&buf, e); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), frame(body)) {
		t.Errorf("re-encoded as %x, want %x", buf.Bytes(), frame(body))
	}
}

// TestWriteFrameOneWrite checks that a frame goes out in one Write, which
// links that share a writer under a lock rely on.
func TestWriteFrameOneWrite(t *testing.T) {
	w := &countingWriter{}
	if err := WriteFrame(w, largest(t, 0)); err != nil {
		t.Fatal(err)
	}
	if w.writes != 1 {
		t.Errorf("got %d writes, want 1", w.writes)
	}
}

type countingWriter struct{ writes int }

func (w *countingWriter) Write(p []byte) (int, error) { w.writes++; return len(p), nil }

func BenchmarkFrame(b *testing.B) {
	e := &Envelope{Id: 42, Body: &Envelope_Put{Put: &PutRequest{Record: &Record{
		Kind: "presence", Name: "alice", Seq: 1, Expires: 1 << 40,
		Payload: []byte(strings.Repeat("x", 300)), Cert: make([]byte, 500), Signature: make([]byte, 72),
	}}}}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := WriteFrame(&buf, e); err != nil {
			b.Fatal(err)
		}
		if _, err := ReadFrame(&buf); err != nil {
			b.Fatal(err)
		}
	}
}
