package bootstrap

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// fakeClock is a settable clock safe for concurrent use.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: t0} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// cacheOf builds a cache holding exactly hosts, through the file format.
func cacheOf(t testing.TB, now func() time.Time, hosts ...Host) *HostCache {
	t.Helper()
	if hosts == nil {
		hosts = []Host{}
	}
	b, err := json.Marshal(hostCacheFile{Version: 1, Hosts: hosts})
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseHostCache(b, now)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func addrs(hs []Host) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.Addr
	}
	return out
}

func TestHostCacheOrder(t *testing.T) {
	now := t0
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	tests := []struct {
		name  string
		hosts []Host
		want  []string
	}{
		{
			name: "recent success before none",
			hosts: []Host{
				{Addr: "10.0.0.1:1"},
				{Addr: "10.0.0.2:1", LastSuccess: ago(time.Hour)},
			},
			want: []string{"10.0.0.2:1", "10.0.0.1:1"},
		},
		{
			name: "success older than 24 h counts as none",
			hosts: []Host{
				{Addr: "10.0.0.1:1", LastSuccess: ago(25 * time.Hour), RTT: time.Millisecond},
				{Addr: "10.0.0.2:1", LastSuccess: ago(23 * time.Hour), RTT: time.Second},
			},
			want: []string{"10.0.0.2:1", "10.0.0.1:1"},
		},
		{
			name: "lower RTT first, unmeasured last",
			hosts: []Host{
				{Addr: "10.0.0.1:1", LastSuccess: ago(time.Minute)},
				{Addr: "10.0.0.2:1", LastSuccess: ago(time.Hour), RTT: 80 * time.Millisecond},
				{Addr: "10.0.0.3:1", LastSuccess: ago(2 * time.Hour), RTT: 20 * time.Millisecond},
			},
			want: []string{"10.0.0.3:1", "10.0.0.2:1", "10.0.0.1:1"},
		},
		{
			name: "same RTT: more recent success, then address",
			hosts: []Host{
				{Addr: "10.0.0.3:1", LastSuccess: ago(time.Hour), RTT: time.Millisecond},
				{Addr: "10.0.0.2:1", LastSuccess: ago(time.Minute), RTT: time.Millisecond},
				{Addr: "10.0.0.1:1", LastSuccess: ago(time.Hour), RTT: time.Millisecond},
			},
			want: []string{"10.0.0.2:1", "10.0.0.1:1", "10.0.0.3:1"},
		},
		{
			name: "backoff after healthy, even after a recent success",
			hosts: []Host{
				{Addr: "10.0.0.1:1", LastSuccess: ago(time.Minute), RTT: time.Millisecond, Failures: 1, LastFailure: ago(time.Second)},
				{Addr: "10.0.0.2:1"},
			},
			want: []string{"10.0.0.2:1", "10.0.0.1:1"},
		},
		{
			name: "backoff over: back in its group",
			hosts: []Host{
				// 3 failures: 20 s backoff, over.
				{Addr: "10.0.0.1:1", LastSuccess: ago(time.Hour), Failures: 3, LastFailure: ago(21 * time.Second)},
				{Addr: "10.0.0.2:1"},
			},
			want: []string{"10.0.0.1:1", "10.0.0.2:1"},
		},
		{
			name: "in backoff: the one free soonest first",
			hosts: []Host{
				{Addr: "10.0.0.1:1", Failures: 8, LastFailure: ago(time.Minute)},      // free in 9 min
				{Addr: "10.0.0.2:1", Failures: 2, LastFailure: ago(time.Second)},      // free in 9 s
				{Addr: "10.0.0.3:1", Failures: 5, LastFailure: ago(30 * time.Second)}, // free in 50 s
			},
			want: []string{"10.0.0.2:1", "10.0.0.3:1", "10.0.0.1:1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cacheOf(t, func() time.Time { return now }, tt.hosts...)
			if got := addrs(c.Hosts()); !slices.Equal(got, tt.want) {
				t.Errorf("Hosts: got %v, want %v", got, tt.want)
			}
			if got := c.Candidates(len(tt.want)); !slices.Equal(got, tt.want) {
				t.Errorf("Candidates: got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		failures int
		want     time.Duration
	}{
		{0, 0},
		{1, 5 * time.Second},
		{2, 10 * time.Second},
		{3, 20 * time.Second},
		{7, 320 * time.Second},
		{8, 10 * time.Minute}, // 640 s, capped
		{9, 10 * time.Minute},
		{1 << 30, 10 * time.Minute},
	}
	for _, tt := range tests {
		if got := backoff(tt.failures); got != tt.want {
			t.Errorf("backoff(%d): got %v, want %v", tt.failures, got, tt.want)
		}
	}
}

func TestHostCacheBackoffThroughAPI(t *testing.T) {
	clk := newClock()
	c := NewHostCache(clk.Now)
	c.Success("10.0.0.1:1", 10*time.Millisecond)
	c.Success("10.0.0.2:1", 50*time.Millisecond)
	c.Failure("10.0.0.1:1")
	c.Failure("10.0.0.1:1") // 2 failures: 10 s
	want := []string{"10.0.0.2:1", "10.0.0.1:1"}
	if got := c.Candidates(2); !slices.Equal(got, want) {
		t.Fatalf("in backoff: got %v, want %v", got, want)
	}
	clk.Advance(10*time.Second - time.Nanosecond)
	if got := c.Candidates(2); !slices.Equal(got, want) {
		t.Fatalf("1 ns before the end of backoff: got %v, want %v", got, want)
	}
	clk.Advance(time.Nanosecond)
	want = []string{"10.0.0.1:1", "10.0.0.2:1"}
	if got := c.Candidates(2); !slices.Equal(got, want) {
		t.Fatalf("after backoff: got %v, want %v", got, want)
	}
	// Only failed hosts: still returned.
	c.Failure("10.0.0.2:1")
	c.Failure("10.0.0.1:1")
	if got := c.Candidates(5); len(got) != 2 {
		t.Fatalf("all failing: got %v, want both hosts", got)
	}
}

func TestHostCacheSuccessFailure(t *testing.T) {
	clk := newClock()
	c := NewHostCache(clk.Now)

	c.Failure("10.0.0.1:7500") // unknown: ignored
	if c.Len() != 0 {
		t.Fatalf("Failure of an unknown host added it: got %d hosts, want 0", c.Len())
	}
	c.Success("10.0.0.1:7500", 100*time.Millisecond) // unknown: added
	c.Success("10.0.0.1:7500", 200*time.Millisecond) // EWMA: 100 + (200-100)/4
	c.Success("10.0.0.1:7500", 0)                    // no sample: RTT unchanged
	clk.Advance(time.Minute)
	c.Failure("10.0.0.1:7500")
	c.Failure("10.0.0.1:7500")
	h := c.Hosts()[0]
	want := Host{Addr: "10.0.0.1:7500", LastSuccess: t0, LastFailure: t0.Add(time.Minute), Failures: 2, RTT: 125 * time.Millisecond}
	if h != want {
		t.Fatalf("got %+v, want %+v", h, want)
	}
	clk.Advance(time.Minute)
	c.Success("10.0.0.1:7500", 125*time.Millisecond)
	h = c.Hosts()[0]
	if h.Failures != 0 || !h.LastSuccess.Equal(t0.Add(2*time.Minute)) || h.RTT != 125*time.Millisecond {
		t.Fatalf("after success: got %+v, want 0 failures, success at now, RTT 125ms", h)
	}
	c.Success("nonsense", time.Second)
	c.Remove("10.0.0.1:7500")
	if c.Len() != 0 {
		t.Fatalf("after Remove: got %d hosts, want 0", c.Len())
	}
}

func TestHostCacheSeed(t *testing.T) {
	c := NewHostCache(newClock().Now)
	c.Seed([]string{
		"192.0.2.1:7500",
		"192.0.2.1:07500",      // same, other spelling
		"[::ffff:192.0.2.2]:1", // IPv4-mapped
		"[2001:db8:0::1]:2",
		"Node.Example.ORG.:3",
		"no-port",
		"192.0.2.3:0",
		"0.0.0.0:1",
		"[ff02::1]:1",
		"[fe80::1%eth0]:1",
		"bad_host!:1",
		":1",
	}, SourceNetwork)
	c.Learn([]string{"192.0.2.1:7500", "192.0.2.9:9"}, SourcePeer)
	c.Seed([]string{"192.0.2.10:1"}, "made-up")
	got := map[string]string{}
	for _, h := range c.Hosts() {
		got[h.Addr] = h.Source
	}
	want := map[string]string{
		"192.0.2.1:7500":     SourceNetwork, // known: keeps its source
		"192.0.2.2:1":        SourceNetwork,
		"[2001:db8::1]:2":    SourceNetwork,
		"node.example.org:3": SourceNetwork,
		"192.0.2.9:9":        SourcePeer,
		"192.0.2.10:1":       "",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if got := c.Candidates(10, "192.0.2.2:01", "[::ffff:192.0.2.9]:9"); slices.Contains(got, "192.0.2.2:1") || slices.Contains(got, "192.0.2.9:9") || len(got) != 4 {
		t.Fatalf("Candidates with exclude: got %v, want the 4 others", got)
	}
}

func TestHostCacheCandidates(t *testing.T) {
	c := NewHostCache(newClock().Now)
	c.Success("10.0.0.1:1", 1*time.Millisecond)
	c.Success("10.0.0.2:1", 2*time.Millisecond)
	c.Success("10.0.0.3:1", 3*time.Millisecond)
	tests := []struct {
		n       int
		exclude []string
		want    []string
	}{
		{0, nil, nil},
		{-1, nil, nil},
		{2, nil, []string{"10.0.0.1:1", "10.0.0.2:1"}},
		{10, nil, []string{"10.0.0.1:1", "10.0.0.2:1", "10.0.0.3:1"}},
		{2, []string{"10.0.0.1:1"}, []string{"10.0.0.2:1", "10.0.0.3:1"}},
		{10, []string{"10.0.0.1:1", "10.0.0.2:1", "10.0.0.3:1", "junk"}, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.n, tt.exclude), func(t *testing.T) {
			if got := c.Candidates(tt.n, tt.exclude...); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func hostAddr(i int) string { return fmt.Sprintf("10.%d.%d.1:7500", i/256, i%256) }

func TestHostCacheEvictionKeepsProven(t *testing.T) {
	clk := newClock()
	c := NewHostCache(clk.Now)
	for i := range MaxHosts {
		c.Success(hostAddr(i), time.Duration(i+1)*time.Millisecond)
	}
	// Even failing proven hosts are not pushed out by unproven ones.
	c.Failure(hostAddr(0))
	c.Failure(hostAddr(0))
	var fresh []string
	for i := range 50 {
		fresh = append(fresh, fmt.Sprintf("192.0.2.%d:1", i+1))
	}
	c.Learn(fresh, SourcePeer)
	if c.Len() != MaxHosts {
		t.Fatalf("got %d hosts, want %d", c.Len(), MaxHosts)
	}
	for _, h := range c.Hosts() {
		if h.LastSuccess.IsZero() {
			t.Fatalf("unproven %s pushed out a proven host", h.Addr)
		}
	}

	// A host that just worked is added; the worst (most failures) goes.
	c.Success("198.51.100.1:1", time.Millisecond)
	if c.Len() != MaxHosts {
		t.Fatalf("after Success: got %d hosts, want %d", c.Len(), MaxHosts)
	}
	if slices.Contains(c.Candidates(MaxHosts), hostAddr(0)) {
		t.Fatalf("got %s kept, want it evicted as the worst", hostAddr(0))
	}
	if !slices.Contains(c.Candidates(MaxHosts), "198.51.100.1:1") {
		t.Fatalf("got the new proven host evicted, want it kept")
	}
}

func TestHostCacheEvictionReplacesFailingUnproven(t *testing.T) {
	c := NewHostCache(newClock().Now)
	var all []string
	for i := range MaxHosts {
		all = append(all, hostAddr(i))
	}
	c.Seed(all, SourcePeer)
	// Full of untried hosts: a newcomer is no better, nothing changes.
	c.Learn([]string{"192.0.2.1:1"}, SourcePeer)
	if slices.Contains(c.Candidates(MaxHosts), "192.0.2.1:1") {
		t.Fatal("an untried host replaced another untried one")
	}
	// Three hosts failed: the two worst make room.
	c.Failure(hostAddr(5))
	c.Failure(hostAddr(5))
	c.Failure(hostAddr(6))
	c.Failure(hostAddr(6))
	c.Failure(hostAddr(6))
	c.Failure(hostAddr(7))
	c.Learn([]string{"192.0.2.1:1", "192.0.2.2:1"}, SourcePeer)
	got := c.Candidates(MaxHosts)
	if c.Len() != MaxHosts {
		t.Fatalf("got %d hosts, want %d", c.Len(), MaxHosts)
	}
	for addr, want := range map[string]bool{
		"192.0.2.1:1": true, "192.0.2.2:1": true,
		hostAddr(5): false, hostAddr(6): false, hostAddr(7): true,
	} {
		if slices.Contains(got, addr) != want {
			t.Errorf("%s kept: got %v, want %v", addr, !want, want)
		}
	}
}

func TestHostCacheHousekeeping(t *testing.T) {
	now := t0
	day := 24 * time.Hour
	hosts := []Host{
		{Addr: "10.0.0.1:1", Failures: 10},                                           // never worked: dropped
		{Addr: "10.0.0.2:1", Failures: 12, LastSuccess: now.Add(-8 * day)},           // dropped
		{Addr: "10.0.0.3:1", Failures: 12, LastSuccess: now.Add(-6 * day)},           // kept: worked this week
		{Addr: "10.0.0.4:1", Failures: 9},                                            // kept: not yet 10
		{Addr: "10.0.0.5:1", LastSuccess: now.Add(-30 * day), RTT: time.Millisecond}, // kept
	}
	want := []string{"10.0.0.3:1", "10.0.0.4:1", "10.0.0.5:1"}
	clock := func() time.Time { return now }

	for _, via := range []string{"Seed", "Learn", "Save"} {
		t.Run(via, func(t *testing.T) {
			c := cacheOf(t, clock, hosts...)
			if c.Len() != len(hosts) {
				t.Fatalf("parse: got %d hosts, want %d", c.Len(), len(hosts))
			}
			switch via {
			case "Seed":
				c.Seed(nil, SourceNetwork)
			case "Learn":
				c.Learn(nil, SourcePeer)
			case "Save":
				p := filepath.Join(t.TempDir(), "hosts.json")
				if err := c.Save(p); err != nil {
					t.Fatal(err)
				}
				var err error
				if c, err = LoadHostCache(p, clock); err != nil {
					t.Fatal(err)
				}
			}
			got := addrs(c.Hosts())
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("got %v, want %v", got, want)
			}
		})
	}
}

func TestHostCacheSaveLoad(t *testing.T) {
	clk := newClock()
	c := NewHostCache(clk.Now)
	c.Seed([]string{"192.0.2.1:7500", "node.example.org:7500"}, SourceNetwork)
	c.Learn([]string{"[2001:db8::1]:7500"}, SourcePeer)
	c.Success("192.0.2.1:7500", 42*time.Millisecond)
	clk.Advance(time.Second)
	c.Failure("node.example.org:7500")
	c.Success("198.51.100.7:7500", 0)

	dir := filepath.Join(t.TempDir(), "profile", "cache")
	p := filepath.Join(dir, "hosts.json")
	for range 2 { // create, then replace
		if err := c.Save(p); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("file mode: got %v, want 0600", got)
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := di.Mode().Perm(); got != 0o700 {
		t.Errorf("folder mode: got %v, want 0700", got)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || ents[0].Name() != "hosts.json" {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("folder holds %v, want only hosts.json (no temp file left)", names)
	}

	got, err := LoadHostCache(p, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := got.Hosts(), c.Hosts(); !slices.Equal(g, w) {
		t.Fatalf("got %+v, want %+v", g, w)
	}
	if len(c.Hosts()) != 4 {
		t.Fatalf("got %d hosts, want 4", len(c.Hosts()))
	}
}

func TestLoadHostCacheMissing(t *testing.T) {
	c, err := LoadHostCache(filepath.Join(t.TempDir(), "nope", "hosts.json"), nil)
	if err != nil {
		t.Fatalf("got %v, want no error", err)
	}
	if c.Len() != 0 {
		t.Fatalf("got %d hosts, want 0", c.Len())
	}
	c.Success("10.0.0.1:1", time.Millisecond) // real clock
	if c.Len() != 1 {
		t.Fatalf("got %d hosts, want 1", c.Len())
	}
}

func TestLoadHostCacheCorrupt(t *testing.T) {
	p := filepath.Join(t.TempDir(), "hosts.json")
	if err := os.WriteFile(p, []byte("{\"version\":1,\n\"hosts\":[{\"addr\":\"x\"}]}"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadHostCache(p, nil)
	if !errors.Is(err, ErrInvalidHostCache) {
		t.Fatalf("got %v, want ErrInvalidHostCache", err)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, p+": ") || strings.Contains(msg, "\n") || !strings.Contains(msg, `addr "x"`) {
		t.Fatalf("got %q, want one line naming the file and the bad addr", msg)
	}
}

func TestParseHostCacheRefuses(t *testing.T) {
	many := make([]Host, MaxHosts+1)
	for i := range many {
		many[i].Addr = hostAddr(i)
	}
	tooMany, _ := json.Marshal(hostCacheFile{Version: 1, Hosts: many})
	tests := []struct {
		name string
		data string
		want string // part of the reason
	}{
		{"empty", ``, "EOF"},
		{"not JSON", `hosts: []`, "invalid character"},
		{"truncated", `{"version":1,"hosts":[{"addr":"10.0.0.1:1"}`, "unexpected EOF"},
		{"trailing data", `{"version":1}{}`, "data after"},
		{"trailing bracket", `{"version":1}]`, "data after"},
		{"oversized", `{"version":1,"hosts":[]}` + strings.Repeat(" ", maxHostCacheSize), "larger than"},
		{"version", `{"version":2,"hosts":[]}`, "version 2"},
		{"no version", `{"hosts":[]}`, "version 0"},
		{"unknown field", `{"version":1,"hosts":[],"extra":1}`, `unknown field "extra"`},
		{"unknown host field", `{"version":1,"hosts":[{"addr":"10.0.0.1:1","score":3}]}`, `unknown field "score"`},
		{"too many", string(tooMany), "201 hosts, at most 200"},
		{"no port", `{"version":1,"hosts":[{"addr":"10.0.0.1"}]}`, `hosts[0]: addr "10.0.0.1"`},
		{"port 0", `{"version":1,"hosts":[{"addr":"10.0.0.1:0"}]}`, "not in 1..65535"},
		{"bad host", `{"version":1,"hosts":[{"addr":"a b:1"}]}`, "neither an IP address nor a DNS name"},
		{"bad IPv4", `{"version":1,"hosts":[{"addr":"10.0.0.300:1"}]}`, "neither an IP address nor a DNS name"},
		{"unspecified", `{"version":1,"hosts":[{"addr":"0.0.0.0:1"}]}`, "not a unicast address"},
		{"duplicate", `{"version":1,"hosts":[{"addr":"10.0.0.1:1"},{"addr":"10.0.0.2:1"},{"addr":"10.0.0.1:1"}]}`, "hosts[2]: addr \"10.0.0.1:1\" is a duplicate of hosts[0]"},
		{"duplicate spelling", `{"version":1,"hosts":[{"addr":"[::ffff:10.0.0.1]:1"},{"addr":"10.0.0.1:01"}]}`, "duplicate of hosts[0]"},
		{"negative failures", `{"version":1,"hosts":[{"addr":"10.0.0.1:1","failures":-1}]}`, "negative failures"},
		{"negative rtt", `{"version":1,"hosts":[{"addr":"10.0.0.1:1","rtt_ns":-5}]}`, "negative rtt_ns"},
		{"fractional rtt", `{"version":1,"hosts":[{"addr":"10.0.0.1:1","rtt_ns":1.5}]}`, "rtt_ns"},
		{"unknown source", `{"version":1,"hosts":[{"addr":"10.0.0.1:1","source":"gossip"}]}`, `unknown source "gossip"`},
		{"bad time", `{"version":1,"hosts":[{"addr":"10.0.0.1:1","last_success":"yesterday"}]}`, "yesterday"},
		{"time before year 1", `{"version":1,"hosts":[{"addr":"10.0.0.1:1","last_failure":"0001-01-01T00:00:00+01:00"}]}`, "before year 1"},
		{"wrong type", `{"version":1,"hosts":{"addr":"10.0.0.1:1"}}`, "cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseHostCache([]byte(tt.data), func() time.Time { return t0 })
			if !errors.Is(err, ErrInvalidHostCache) {
				t.Fatalf("got %v, want ErrInvalidHostCache", err)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("reason %q is not one line", msg)
			}
			if !strings.Contains(msg, tt.want) {
				t.Errorf("got %q, want it to mention %q", msg, tt.want)
			}
		})
	}
}

func TestParseHostCacheAccepts(t *testing.T) {
	tests := []struct {
		name string
		data string
		want []Host
	}{
		{"no hosts", `{"version":1}`, []Host{}},
		{"null hosts", `{"version":1,"hosts":null}`, []Host{}},
		{"canonical forms", `{"version":1,"hosts":[{"addr":"[2001:DB8:0:0::1]:080"},{"addr":"Example.COM:1","source":"redirect"}]}`,
			[]Host{{Addr: "[2001:db8::1]:80"}, {Addr: "example.com:1", Source: SourceRedirect}}},
		{"future times become now", `{"version":1,"hosts":[{"addr":"10.0.0.1:1","last_success":"2999-01-01T00:00:00Z","failures":1,"last_failure":"2999-01-01T00:00:00+02:00"}]}`,
			[]Host{{Addr: "10.0.0.1:1", LastSuccess: t0, LastFailure: t0, Failures: 1}}},
		{"zones become UTC", `{"version":1,"hosts":[{"addr":"10.0.0.1:1","last_success":"2025-06-01T13:00:00+02:00"}]}`,
			[]Host{{Addr: "10.0.0.1:1", LastSuccess: t0.Add(-time.Hour)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseHostCache([]byte(tt.data), func() time.Time { return t0 })
			if err != nil {
				t.Fatal(err)
			}
			got := c.Hosts()
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestHostCacheZeroValue(t *testing.T) {
	var c HostCache
	c.Seed([]string{"10.0.0.1:1"}, SourceNetwork)
	c.Success("10.0.0.2:1", time.Millisecond)
	if got := c.Candidates(5); !slices.Equal(got, []string{"10.0.0.2:1", "10.0.0.1:1"}) {
		t.Fatalf("got %v, want [10.0.0.2:1 10.0.0.1:1]", got)
	}
}

func TestHostCacheConcurrent(t *testing.T) {
	clk := newClock()
	c := NewHostCache(clk.Now)
	p := filepath.Join(t.TempDir(), "hosts.json")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 300 {
				a := hostAddr((g*300 + i) % 400)
				switch i % 6 {
				case 0:
					c.Learn([]string{a, hostAddr(i)}, SourcePeer)
				case 1:
					c.Success(a, time.Duration(i)*time.Microsecond)
				case 2:
					c.Failure(a)
					clk.Advance(time.Second)
				case 3:
					c.Candidates(4, a)
				case 4:
					if i%60 == 4 {
						if err := c.Save(p); err != nil {
							t.Error(err)
						}
					} else if _, err := c.Encode(); err != nil {
						t.Error(err)
					}
				case 5:
					if i%30 == 5 {
						c.Remove(a)
					}
					_ = c.Hosts()
				}
				if n := c.Len(); n > MaxHosts {
					t.Errorf("got %d hosts, want at most %d", n, MaxHosts)
				}
			}
		})
	}
	wg.Wait()
	got, err := LoadHostCache(p, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	if got.Len() == 0 || got.Len() > MaxHosts {
		t.Fatalf("saved cache has %d hosts, want 1..%d", got.Len(), MaxHosts)
	}
}
