package app

import (
	"encoding/json"
	"testing"
)

// FuzzDecodeMailed: the mailed file decoder refuses bad input with an
// error, never a panic, and what it accepts encodes back to an equal set.
func FuzzDecodeMailed(f *testing.F) {
	f.Add([]byte(`{"00112233445566778899aabbccddeeff":{"user":"bob","name":"bob/00112233445566778899aabbccddeeff","expires":"2026-12-01T00:00:00Z"}}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"zz":{}}`))
	f.Add([]byte(`[1,2]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decodeMailed(data)
		if err != nil {
			return
		}
		raw := map[string]mailedEntry{}
		for id, e := range m {
			raw[mailID(id)] = e
		}
		b, err := json.Marshal(raw)
		if err != nil {
			t.Fatal(err)
		}
		again, err := decodeMailed(b)
		if err != nil || len(again) != len(m) {
			t.Fatalf("re-decoding what was accepted: %v (%d of %d)", err, len(again), len(m))
		}
	})
}
