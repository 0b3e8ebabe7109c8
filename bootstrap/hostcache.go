package bootstrap

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"soitto/internal/atomicfile"
)

// MaxHosts is how many super-peers a host cache keeps.
const MaxHosts = 200

// Where a host cache entry came from (Host.Source).
const (
	SourceNetwork  = "network"  // the network file's bootstrap list
	SourcePeer     = "peer"     // a super-peer list from a node
	SourceRedirect = "redirect" // a super-peer that sent the client elsewhere
)

const (
	hostCacheVersion = 1
	maxHostCacheSize = 256 << 10

	// A host that worked this recently is preferred to one that did not.
	recentSuccess = 24 * time.Hour
	// After its n-th consecutive failure a host waits
	// min(2^(n-1) * baseBackoff, maxBackoff) before it is tried again first.
	baseBackoff = 5 * time.Second
	maxBackoff  = 10 * time.Minute
	// Housekeeping drops a host with dropFailures consecutive failures and
	// no success within dropAfter.
	dropFailures = 10
	dropAfter    = 7 * 24 * time.Hour
)

// ErrInvalidHostCache is wrapped by every error that says why a host cache
// file was refused.
var ErrInvalidHostCache = errors.New("invalid host cache")

// Host is one super-peer the client knows.
type Host struct {
	Addr        string        `json:"addr"`                  // canonical "host:port", see Seed
	LastSuccess time.Time     `json:"last_success,omitzero"` // last time attaching/talking to it worked
	LastFailure time.Time     `json:"last_failure,omitzero"`
	Failures    int           `json:"failures,omitempty"` // consecutive failures since the last success
	RTT         time.Duration `json:"rtt_ns,omitempty"`   // smoothed round-trip time (EWMA, alpha 1/4), 0 if never measured
	Source      string        `json:"source,omitempty"`   // SourceNetwork, SourcePeer, SourceRedirect, or "" if unknown
}

// HostCache is the client's list of up to MaxHosts super-peers, ordered by
// recent success and round-trip time, as KaZaA and Skype clients keep one.
// It only records what its caller reports; it never dials anything.
// It is safe for concurrent use. The zero value is an empty cache that
// uses time.Now.
//
// Preference order (Hosts, Candidates):
//  1. hosts not in failure backoff that worked in the last 24 h;
//  2. other hosts not in failure backoff;
//  3. hosts in failure backoff, the one whose backoff ends first first.
//
// Within a group: measured RTT before unmeasured, lower RTT first, then the
// more recent success, then the address. A host with Failures > 0 is in
// backoff for min(2^(Failures-1) * 5 s, 10 min) after LastFailure; it is still
// returned, last, so a client whose hosts all failed keeps trying them.
type HostCache struct {
	now func() time.Time

	mu    sync.Mutex       // guards hosts
	hosts map[string]*Host // by canonical Addr
}

// NewHostCache returns an empty cache. If now is nil, time.Now is used.
func NewHostCache(now func() time.Time) *HostCache {
	return &HostCache{now: now, hosts: make(map[string]*Host)}
}

type hostCacheFile struct {
	Version int    `json:"version"`
	Hosts   []Host `json:"hosts"`
}

// LoadHostCache reads the host cache at path. A missing file gives an empty
// cache and no error; a file that cannot be read or is refused by
// ParseHostCache gives a one-line error naming the file, after which the
// caller may start with an empty cache.
func LoadHostCache(path string, now func() time.Time) (*HostCache, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return NewHostCache(now), nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxHostCacheSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c, err := ParseHostCache(data, now)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ParseHostCache decodes and validates a host cache file:
//
//	{"version": 1, "hosts": [{"addr": "192.0.2.1:7500", ...}, ...]}
//
// It refuses, with an error wrapping ErrInvalidHostCache, files over 256 KiB,
// unknown fields, more than MaxHosts hosts, invalid or duplicate addresses
// (compared in canonical form), negative failures or RTT, unknown sources,
// and times before year 1. Times later than now (a clock set back) are
// taken as now. If now is nil, time.Now is used.
func ParseHostCache(data []byte, now func() time.Time) (*HostCache, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidHostCache, fmt.Sprintf(format, a...))
	}
	if len(data) > maxHostCacheSize {
		return nil, bad("larger than %d bytes", maxHostCacheSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f hostCacheFile
	if err := dec.Decode(&f); err != nil {
		return nil, bad("%v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, bad("data after the JSON object")
	}
	if f.Version != hostCacheVersion {
		return nil, bad("version %d, this program reads version %d", f.Version, hostCacheVersion)
	}
	if len(f.Hosts) > MaxHosts {
		return nil, bad("%d hosts, at most %d", len(f.Hosts), MaxHosts)
	}
	c := NewHostCache(now)
	t := c.clock()
	first := make(map[string]int, len(f.Hosts))
	for i, h := range f.Hosts {
		addr, err := canonicalAddr(h.Addr)
		if err != nil {
			return nil, bad("hosts[%d]: addr %q: %v", i, h.Addr, err)
		}
		if j, dup := first[addr]; dup {
			return nil, bad("hosts[%d]: addr %q is a duplicate of hosts[%d]", i, h.Addr, j)
		}
		first[addr] = i
		h.Addr = addr
		if h.Failures < 0 {
			return nil, bad("hosts[%d] %s: negative failures %d", i, addr, h.Failures)
		}
		if h.RTT < 0 {
			return nil, bad("hosts[%d] %s: negative rtt_ns %d", i, addr, int64(h.RTT))
		}
		if !validSource(h.Source) {
			return nil, bad("hosts[%d] %s: unknown source %q", i, addr, h.Source)
		}
		if h.LastSuccess, err = fileTime(h.LastSuccess, t); err != nil {
			return nil, bad("hosts[%d] %s: last_success %v", i, addr, err)
		}
		if h.LastFailure, err = fileTime(h.LastFailure, t); err != nil {
			return nil, bad("hosts[%d] %s: last_failure %v", i, addr, err)
		}
		c.hosts[addr] = &h
	}
	return c, nil
}

// fileTime normalizes a time read from a file to UTC, clamped to now.
func fileTime(t, now time.Time) (time.Time, error) {
	if t.IsZero() {
		return time.Time{}, nil
	}
	t = t.UTC()
	if t.Before(time.Time{}) {
		return time.Time{}, fmt.Errorf("is before year 1")
	}
	if t.After(now) {
		t = now
	}
	return t, nil
}

// Encode returns the cache's JSON form, hosts in preference order.
func (c *HostCache) Encode() ([]byte, error) {
	c.mu.Lock()
	hosts := c.sortedLocked(c.clock())
	c.mu.Unlock()
	return encodeHosts(hosts)
}

func encodeHosts(hosts []Host) ([]byte, error) {
	b, err := json.MarshalIndent(hostCacheFile{Version: hostCacheVersion, Hosts: hosts}, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Save drops hosts that keep failing (see Seed) and writes the cache to
// path atomically with mode 0600, creating the parent folder with mode 0700
// if needed.
func (c *HostCache) Save(path string) error {
	c.mu.Lock()
	now := c.clock()
	c.pruneLocked(now)
	hosts := c.sortedLocked(now)
	c.mu.Unlock()
	b, err := encodeHosts(hosts)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, b, 0o600)
}

// Seed adds the addresses it does not know yet, as "host:port" with a port
// in 1..65535 and a host that is a unicast IP address or a DNS name; invalid
// ones are ignored. Addresses are kept in canonical form (IPv4-mapped IPv6
// unmapped, IPv6 compressed, names lower-cased, port in decimal). A known
// host keeps its history and source. source should be one of the Source
// constants; any other value is recorded as "".
//
// When the cache is full a new host replaces only a host that never worked
// and is failing (the worst such first), never one with a LastSuccess;
// otherwise it is not added. Before adding, Seed drops hosts with 10 or more
// consecutive failures and no success in the last 7 days.
func (c *HostCache) Seed(addrs []string, source string) {
	if !validSource(source) {
		source = ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pruneLocked(c.clock())
	for _, a := range addrs {
		addr, err := canonicalAddr(a)
		if err != nil {
			continue
		}
		if _, ok := c.hosts[addr]; ok {
			continue
		}
		if len(c.hosts) >= MaxHosts && !c.evictLocked("", true) {
			// Nothing left to replace: the rest would be refused too.
			return
		}
		c.addLocked(&Host{Addr: addr, Source: source})
	}
}

// Learn is Seed for super-peer lists received from nodes.
func (c *HostCache) Learn(addrs []string, source string) { c.Seed(addrs, source) }

// Success records that attaching to or talking to addr worked: LastSuccess
// becomes now, Failures 0, and a positive rtt is folded into RTT
// (EWMA, alpha 1/4; the first sample is taken as is). An unknown valid
// address is added, evicting the worst other host if the cache is full.
func (c *HostCache) Success(addr string, rtt time.Duration) {
	addr, err := canonicalAddr(addr)
	if err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.hosts[addr]
	if !ok {
		h = &Host{Addr: addr}
		c.addLocked(h)
		if len(c.hosts) > MaxHosts {
			c.evictLocked(addr, false)
		}
	}
	h.LastSuccess = c.clock()
	h.Failures = 0
	if rtt > 0 {
		if h.RTT == 0 {
			h.RTT = rtt
		} else {
			h.RTT += (rtt - h.RTT) / 4
		}
	}
}

// Failure records that attaching to or talking to addr failed: LastFailure
// becomes now and Failures grows by one. Unknown addresses are ignored.
func (c *HostCache) Failure(addr string) {
	addr, err := canonicalAddr(addr)
	if err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if h, ok := c.hosts[addr]; ok {
		h.LastFailure = c.clock()
		if h.Failures < 1<<30 {
			h.Failures++
		}
	}
}

// Remove forgets addr.
func (c *HostCache) Remove(addr string) {
	addr, err := canonicalAddr(addr)
	if err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.hosts, addr)
}

// Len returns how many hosts the cache holds.
func (c *HostCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.hosts)
}

// Hosts returns a copy of the hosts in preference order.
func (c *HostCache) Hosts() []Host {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sortedLocked(c.clock())
}

// Candidates returns up to n addresses in preference order, skipping those
// in exclude (compared in canonical form).
func (c *HostCache) Candidates(n int, exclude ...string) []string {
	if n <= 0 {
		return nil
	}
	skip := make(map[string]bool, len(exclude))
	for _, a := range exclude {
		if ca, err := canonicalAddr(a); err == nil {
			skip[ca] = true
		}
	}
	var out []string
	for _, h := range c.Hosts() {
		if len(out) == n {
			break
		}
		if !skip[h.Addr] {
			out = append(out, h.Addr)
		}
	}
	return out
}

// clock returns now in UTC without a monotonic reading, so that what is
// stored survives a round trip through the file.
func (c *HostCache) clock() time.Time {
	if c.now == nil {
		return time.Now().UTC()
	}
	return c.now().UTC()
}

func (c *HostCache) addLocked(h *Host) {
	if c.hosts == nil {
		c.hosts = make(map[string]*Host)
	}
	c.hosts[h.Addr] = h
}

// pruneLocked drops hosts that keep failing and have not worked for a week.
func (c *HostCache) pruneLocked(now time.Time) {
	for addr, h := range c.hosts {
		if h.Failures >= dropFailures && (h.LastSuccess.IsZero() || now.Sub(h.LastSuccess) > dropAfter) {
			delete(c.hosts, addr)
		}
	}
}

// evictLocked drops the worst host other than keep and reports whether it
// dropped one. If forUnproven, only hosts that never worked and are failing
// qualify: a fresh, unproven host must not push out a better one.
func (c *HostCache) evictLocked(keep string, forUnproven bool) bool {
	var worst *Host
	for _, h := range c.hosts {
		if h.Addr == keep {
			continue
		}
		if forUnproven && (!h.LastSuccess.IsZero() || h.Failures == 0) {
			continue
		}
		if worst == nil || compareWorse(h, worst) > 0 {
			worst = h
		}
	}
	if worst == nil {
		return false
	}
	delete(c.hosts, worst.Addr)
	return true
}

// compareWorse is > 0 if a should be evicted before b: more consecutive
// failures, then older success (never is oldest), then unmeasured or higher
// RTT, then the greater address.
func compareWorse(a, b *Host) int {
	if c := cmp.Compare(a.Failures, b.Failures); c != 0 {
		return c
	}
	if c := b.LastSuccess.Compare(a.LastSuccess); c != 0 {
		return c
	}
	if c := compareRTT(a.RTT, b.RTT); c != 0 {
		return -c
	}
	return strings.Compare(a.Addr, b.Addr)
}

func (c *HostCache) sortedLocked(now time.Time) []Host {
	hs := make([]Host, 0, len(c.hosts))
	for _, h := range c.hosts {
		hs = append(hs, *h)
	}
	slices.SortFunc(hs, func(a, b Host) int { return comparePreference(&a, &b, now) })
	return hs
}

const (
	groupRecent = iota
	groupOther
	groupBackoff
)

func preferenceGroup(h *Host, now time.Time) int {
	switch {
	case h.Failures > 0 && now.Before(backoffEnd(h)):
		return groupBackoff
	case !h.LastSuccess.IsZero() && now.Sub(h.LastSuccess) < recentSuccess:
		return groupRecent
	default:
		return groupOther
	}
}

// comparePreference is < 0 if a should be tried before b.
func comparePreference(a, b *Host, now time.Time) int {
	ga, gb := preferenceGroup(a, now), preferenceGroup(b, now)
	if c := cmp.Compare(ga, gb); c != 0 {
		return c
	}
	if ga == groupBackoff {
		if c := backoffEnd(a).Compare(backoffEnd(b)); c != 0 {
			return c
		}
	}
	if c := compareRTT(a.RTT, b.RTT); c != 0 {
		return c
	}
	if c := b.LastSuccess.Compare(a.LastSuccess); c != 0 {
		return c
	}
	return strings.Compare(a.Addr, b.Addr)
}

// compareRTT orders measured RTTs before unmeasured (0), lower first.
func compareRTT(a, b time.Duration) int {
	switch {
	case a == b:
		return 0
	case a == 0:
		return 1
	case b == 0:
		return -1
	}
	return cmp.Compare(a, b)
}

func backoffEnd(h *Host) time.Time {
	return h.LastFailure.Add(backoff(h.Failures))
}

// backoff is how long a host with the given consecutive failures is tried
// last: min(2^(failures-1) * 5 s, 10 min), 0 without failures.
func backoff(failures int) time.Duration {
	switch {
	case failures <= 0:
		return 0
	case failures > 8: // 2^7 * 5 s is already past the cap
		return maxBackoff
	}
	return min(baseBackoff<<(failures-1), maxBackoff)
}

func validSource(s string) bool {
	switch s {
	case "", SourceNetwork, SourcePeer, SourceRedirect:
		return true
	}
	return false
}

// canonicalAddr checks a with CheckHostPort, requires the host to be a
// unicast IP address without a zone or a DNS name, and returns the one
// spelling the cache keeps, so that duplicates are found.
func canonicalAddr(a string) (string, error) {
	if err := CheckHostPort(a); err != nil {
		return "", err
	}
	host, portStr, _ := net.SplitHostPort(a)
	port, _ := strconv.Atoi(portStr)
	if ip, err := netip.ParseAddr(host); err == nil {
		ip = ip.Unmap()
		switch {
		case ip.Zone() != "":
			return "", fmt.Errorf("IPv6 zone not allowed")
		case ip.IsUnspecified() || ip.IsMulticast():
			return "", fmt.Errorf("not a unicast address")
		}
		return netip.AddrPortFrom(ip, uint16(port)).String(), nil
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if !validHostname(name) {
		return "", fmt.Errorf("host is neither an IP address nor a DNS name")
	}
	return net.JoinHostPort(name, strconv.Itoa(port)), nil
}

// validHostname accepts a lower-case DNS name whose last label is not all
// digits (RFC 3696 §2), so that a mistyped IPv4 address is not taken for one.
func validHostname(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	last := s[strings.LastIndexByte(s, '.')+1:]
	if strings.Trim(last, "0123456789") == "" {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			b := label[i]
			if !('a' <= b && b <= 'z' || '0' <= b && b <= '9' || b == '-' || b == '_') {
				return false
			}
		}
	}
	return true
}
