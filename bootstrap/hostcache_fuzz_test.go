package bootstrap

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func FuzzParseHostCache(f *testing.F) {
	clk := newClock()
	c := NewHostCache(clk.Now)
	c.Seed([]string{"192.0.2.1:7500", "node.example.org:7500"}, SourceNetwork)
	c.Learn([]string{"[2001:db8::1]:7500"}, SourcePeer)
	c.Success("192.0.2.1:7500", 42*time.Millisecond)
	c.Failure("node.example.org:7500")
	b, err := c.Encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"version":1}`))

	now := func() time.Time { return t0 }
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseHostCache(data, now)
		if err != nil {
			if !errors.Is(err, ErrInvalidHostCache) {
				t.Fatalf("error %v does not wrap ErrInvalidHostCache", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("reason %q is not one line", err)
			}
			return
		}
		if c.Len() > MaxHosts {
			t.Fatalf("got %d hosts, want at most %d", c.Len(), MaxHosts)
		}
		// What parses must survive a round trip unchanged.
		enc, err := c.Encode()
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseHostCache(enc, now)
		if err != nil {
			t.Fatalf("re-encoded cache refused: %v\n%s", err, enc)
		}
		got, want := again.Hosts(), c.Hosts()
		if len(got) != len(want) {
			t.Fatalf("got %d hosts, want %d", len(got), len(want))
		}
		for i := range want {
			g, w := got[i], want[i]
			if g.Addr != w.Addr || g.Failures != w.Failures || g.RTT != w.RTT || g.Source != w.Source ||
				!g.LastSuccess.Equal(w.LastSuccess) || !g.LastFailure.Equal(w.LastFailure) {
				t.Fatalf("host %d: got %+v, want %+v", i, g, w)
			}
		}
	})
}
