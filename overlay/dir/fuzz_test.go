package dir

import (
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"soitto/overlay/wire"
)

// FuzzVerify feeds arbitrary bytes, as a Record off the wire, to Verify
// and the Store: neither may panic, every refusal names a wire sentinel,
// and only the record signed here verifies.
func FuzzVerify(f *testing.F) {
	authority, roots := newAuthority(f)
	now := time.Now()
	alice := newUser(f, authority, "alice")
	valid := alice.record(f, 1, now.Add(30*time.Minute), `{"status":"online"}`)
	b, err := proto.Marshal(valid)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	sentinels := []error{wire.ErrBadRecord, wire.ErrTooLarge, wire.ErrExpired, wire.ErrForbidden}
	f.Fuzz(func(t *testing.T, data []byte) {
		var r wire.Record
		if proto.Unmarshal(data, &r) != nil {
			return
		}
		_ = SignedBytes(&r)
		err := Verify(&r, roots, now, Limits{})
		if err == nil {
			if !proto.Equal(cleanCopy(&r), valid) {
				t.Fatalf("a record not signed here verifies: %v", &r)
			}
		} else if !slicesContainsIs(err, sentinels) {
			t.Fatalf("refusal %v names no sentinel", err)
		}
		s := NewStore(roots, Limits{})
		if serr := s.Put(&r, now); (serr == nil) != (err == nil) {
			t.Fatalf("Verify says %v, Store.Put %v", err, serr)
		}
	})
}

func slicesContainsIs(err error, targets []error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}
