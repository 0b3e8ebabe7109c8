package e2e

import (
	"crypto/rand"
	"crypto/sha256"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// becomeContacts makes a and b contacts through a request and its
// acceptance, both listening.
func becomeContacts(t *testing.T, as func(string) []string, cli, a, b string, la, lb *listenProc) {
	t.Helper()
	eventually(t, 20*time.Second, func() error {
		if r := runCmd(t, as(a), cli, "contacts", "add", b); r.code != 0 {
			return &exitError{r}
		}
		return nil
	}, "%s asking %s", a, b)
	lb.expect(t, "contact request from "+a, 20*time.Second)
	if r := runCmd(t, as(b), cli, "contacts", "accept", a); r.code != 0 {
		t.Fatalf("%s accepting: %s", b, r.stderr)
	}
	la.expect(t, "contacts "+b+":contact", 20*time.Second)
}

// TestChatOfflineLocal is issue 7's second "Done when": a message alice
// writes to bob while he is offline waits on the ring, sealed, and
// arrives when bob logs in; alice sees it delivered.
func TestChatOfflineLocal(t *testing.T) {
	bin := buildBinaries(t, "soitto-login", "soitto-node", "soitto-cli")
	cli := filepath.Join(bin, "soitto-cli")
	as := localNetwork(t, bin)
	register(t, as, cli, "alice", "bob")
	bob := startListen(t, as("bob"), cli)
	bob.expect(t, "online via ", 20*time.Second)
	alice := startListen(t, as("alice"), cli)
	alice.expect(t, "online via ", 20*time.Second)
	becomeContacts(t, as, cli, "alice", "bob", alice, bob)

	// Online: straight over a session.
	r := runCmd(t, as("alice"), cli, "chat", "bob", "are you there?")
	if r.code != 0 || !strings.Contains(r.stdout, "delivered to bob") {
		t.Fatalf("chat to an online bob: exit %d %q %s", r.code, r.stdout, r.stderr)
	}
	bob.expect(t, "message from alice: are you there?", 20*time.Second)

	// Offline: bob logs out; alice's message goes onto the ring.
	bob.stop(t)
	const text = "hello bob, this waited for you on the ring"
	eventually(t, 30*time.Second, func() error {
		r = runCmd(t, as("alice"), cli, "chat", "bob", text)
		if r.code != 0 || !strings.Contains(r.stdout, "bob is offline; the message waits on the ring") {
			return &exitError{result{code: 1, stderr: r.stdout + r.stderr}}
		}
		return nil
	}, "alice's message to an offline bob left on the ring")
	// Bob logs in later and gets it; alice's listen sees it delivered.
	bob = startListen(t, as("bob"), cli)
	line := bob.expect(t, "message from alice: ", 60*time.Second)
	if line != "message from alice: "+text {
		t.Fatalf("bob got %q, want %q", line, "message from alice: "+text)
	}
	alice.expect(t, "delivered to bob", 90*time.Second)
}

// TestSendFileLocal is issue 7's first "Done when": `soitto-cli send bob
// big.bin` arrives intact in bob's --accept-files folder, and survives a
// kill -9 of bob halfway: the transfer resumes when bob is back. big.bin
// is 1 GiB of random bytes.
func TestSendFileLocal(t *testing.T) {
	bin := buildBinaries(t, "soitto-login", "soitto-node", "soitto-cli")
	cli := filepath.Join(bin, "soitto-cli")
	as := localNetwork(t, bin)
	register(t, as, cli, "alice", "bob")
	inbox := t.TempDir()
	listenBob := func() *listenProc {
		cmd := exec.Command(cli, "listen", "--accept-files", inbox)
		cmd.Env = append(os.Environ(), as("bob")...)
		p := watchListen(t, cmd)
		p.expect(t, "online via ", 20*time.Second)
		return p
	}
	bob := listenBob()
	alice := startListen(t, as("alice"), cli)
	alice.expect(t, "online via ", 20*time.Second)
	becomeContacts(t, as, cli, "alice", "bob", alice, bob)

	const size = 1 << 30
	big := filepath.Join(t.TempDir(), "big.bin")
	want := writeRandom(t, big, size)

	send := exec.Command(cli, "-v", "send", "bob", big)
	send.Env = append(os.Environ(), as("alice")...)
	var out, errOut syncBuffer
	send.Stdout, send.Stderr = &out, &errOut
	if err := send.Start(); err != nil {
		t.Fatal(err)
	}
	sent := make(chan error, 1)
	go func() { sent <- send.Wait() }()
	t.Cleanup(func() { send.Process.Kill() })

	// Halfway (by the part file's verified size), bob crashes.
	bob.expect(t, "file big.bin from alice: accepted", 30*time.Second)
	deadline := time.Now().Add(2 * time.Minute)
	for partSize(inbox) < size/2 {
		if time.Now().After(deadline) {
			t.Fatalf("the part file did not reach half in 2 min (%d bytes); alice: %s %s", partSize(inbox), out.String(), appLog(errOut.String()))
		}
		select {
		case err := <-sent:
			t.Fatalf("send ended before bob's crash: %v\n%s%s", err, out.String(), appLog(errOut.String()))
		case <-time.After(20 * time.Millisecond):
		}
	}
	bob.kill(t)
	at := partSize(inbox)
	t.Logf("bob killed with %d MiB of %d in the part file", at>>20, size>>20)
	if _, err := os.Stat(filepath.Join(inbox, "big.bin")); err == nil {
		t.Fatal("big.bin is in place before the transfer completed")
	}
	bob = listenBob()
	select {
	case err := <-sent:
		if err != nil {
			t.Fatalf("send: %v\n%s%s", err, out.String(), appLog(errOut.String()))
		}
	case <-time.After(3 * time.Minute):
		t.Fatalf("send did not finish within 3 min of bob's restart\n%s%s", out.String(), appLog(errOut.String()))
	}
	t.Logf("alice's send:\n%s", out.String())
	bob.expect(t, "file big.bin from alice: done", 30*time.Second)
	f, err := os.Open(filepath.Join(inbox, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	if got := h.Sum(nil); string(got) != string(want) {
		t.Fatalf("big.bin arrived with SHA-256 %x, want %x", got, want)
	}
	if n := partSize(inbox); n != 0 {
		t.Errorf("a part file of %d bytes is left in the inbox", n)
	}
}

// appLog is the last lines of a -v log that tell what the app did (not
// pion's debug lines).
func appLog(log string) string {
	var keep []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "component=app") || strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep[max(0, len(keep)-150):], "\n")
}

// syncBuffer is a buffer a process writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// writeRandom writes size random bytes to path and returns their SHA-256.
func writeRandom(t *testing.T, path string, size int64) []byte {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.CopyN(io.MultiWriter(f, h), rand.Reader, size); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return h.Sum(nil)
}

// partSize is how much of the part files (partial transfers) in dir has
// been written: they are made at full size, sparse, so what counts is the
// space allocated.
func partSize(dir string) int64 {
	var n int64
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".soitto-part") {
			continue
		}
		if fi, err := e.Info(); err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				n += st.Blocks * 512
			}
		}
	}
	return n
}
