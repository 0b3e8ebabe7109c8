package app

import (
	"strings"
	"testing"
)

func TestCallSignalCodec(t *testing.T) {
	id := strings.Repeat("ab", 16)
	good := []callSignal{
		{Call: id, Action: actInvite, Via: "127.0.0.1:4000"},
		{Call: id, Action: actRinging},
		{Call: id, Action: actAccept, Via: "[::1]:4000"},
		{Call: id, Action: actHangup, Reason: "connection lost"},
	}
	for _, m := range good {
		b, err := m.encode()
		if err != nil {
			t.Fatalf("%+v: %v", m, err)
		}
		got, err := decodeCallSignal(b)
		if err != nil || got != m {
			t.Fatalf("%s: %+v %v", b, got, err)
		}
	}
	bad := map[string]string{
		`{"call":"` + id + `","action":"invite"}`:                                             "reply address",
		`{"call":"` + id + `","action":"ringing","via":"1.2.3.4:5"}`:                          "with a reply address",
		`{"call":"xyz","action":"ringing"}`:                                                   "32 lowercase hex",
		`{"call":"` + id + `","action":"dance"}`:                                              "unknown action",
		`{"call":"` + id + `","action":"busy","extra":1}`:                                     "unknown field",
		`{"call":"` + id + `","action":"busy"}{}`:                                             "data after",
		`{"call":"` + id + `","action":"hangup","reason":"` + strings.Repeat("x", 201) + `"}`: "reason of 201",
		strings.Repeat(" ", maxCallSignal+1):                                                  "bytes",
	}
	for in, want := range bad {
		if _, err := decodeCallSignal([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%.60s: %v, want %q", in, err, want)
		}
	}
}

func FuzzCallSignal(f *testing.F) {
	f.Add([]byte(`{"call":"` + strings.Repeat("ab", 16) + `","action":"invite","via":"127.0.0.1:4000"}`))
	f.Add([]byte(`{"call":"` + strings.Repeat("0", 32) + `","action":"hangup","reason":"x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeCallSignal(b)
		if err != nil {
			return
		}
		again, err := m.encode()
		if err != nil {
			t.Fatalf("decoded %+v does not encode: %v", m, err)
		}
		if m2, err := decodeCallSignal(again); err != nil || m2 != m {
			t.Fatalf("round trip %+v → %+v %v", m, m2, err)
		}
	})
}
