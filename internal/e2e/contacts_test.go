package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestContactsLocal is issue 8's "Done when", in the terminal: with both
// listening, alice asks bob to be a contact, bob accepts from another
// terminal, both lists say so and alice sees bob online (which, under
// the default privacy, only a contact does); alice's buddy list on disk holds no
// name or message in clear, and a flipped byte makes it refuse to load
// (and it is set aside, not overwritten).
func TestContactsLocal(t *testing.T) {
	bin := buildBinaries(t, "soitto-login", "soitto-node", "soitto-cli")
	cli := filepath.Join(bin, "soitto-cli")
	as := localNetwork(t, bin)
	register(t, as, cli, "alice", "bob")
	bob := startListen(t, as("bob"), cli)
	bob.expect(t, "online via ", 20*time.Second)
	alice := startListen(t, as("alice"), cli)
	alice.expect(t, "online via ", 20*time.Second)

	eventually(t, 20*time.Second, func() error {
		r := runCmd(t, as("alice"), cli, "contacts", "add", "bob", "hi bob, alice here")
		if r.code != 0 {
			return &exitError{r}
		}
		return nil
	}, "alice asking bob")
	line := bob.expect(t, "contact request from alice", 20*time.Second)
	if !strings.Contains(line, `"hi bob, alice here"`) {
		t.Errorf("bob's listen: %q", line)
	}
	r := runCmd(t, as("bob"), cli, "contacts", "accept", "alice")
	if r.code != 0 || !strings.Contains(r.stdout, "accepted alice") {
		t.Fatalf("bob accepting: %d %q %s", r.code, r.stdout, r.stderr)
	}
	alice.expect(t, "contacts bob:contact", 20*time.Second)
	alice.expect(t, "presence bob online", 20*time.Second)
	eventually(t, 20*time.Second, func() error {
		r := runCmd(t, as("alice"), cli, "contacts", "list")
		if r.code != 0 || !strings.Contains(r.stdout, "bob") || !strings.Contains(r.stdout, " contact") {
			return &exitError{result{code: 1, stderr: r.stdout + r.stderr}}
		}
		return nil
	}, "bob accepted in alice's list")
	r = runCmd(t, as("bob"), cli, "contacts", "list")
	if !strings.Contains(r.stdout, "alice") || !strings.Contains(r.stdout, " contact") {
		t.Errorf("bob's list: %q %s", r.stdout, r.stderr)
	}

	// On disk: sealed. No name, no message in clear.
	file := filepath.Join(profileDir(as("alice")), "alice", "buddies.soitto")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	// (Strings long enough not to turn up by chance in the base64.)
	for _, clear := range []string{"hi bob, alice here", `"name":"bob"`, `"state":"contact"`, `"buddies"`} {
		if bytes.Contains(data, []byte(clear)) {
			t.Errorf("the buddy list on disk holds %q in clear", clear)
		}
	}
	// A wrong password opens nothing.
	wrong := append(as("alice"), "SOITTO_PASSWORD=not alice's password")
	if r := runCmd(t, wrong, cli, "contacts", "list"); r.code == 0 || strings.Contains(r.stdout, "bob") {
		t.Errorf("wrong password: exit %d %q", r.code, r.stdout)
	}
	// A flipped byte: refused, with the reason, and set aside.
	data[len(data)/2] ^= 0x01
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	r = runCmd(t, as("alice"), cli, "contacts", "list")
	t.Logf("after a flipped byte: exit %d: %s", r.code, r.stderr)
	if r.code == 0 || !strings.Contains(r.stderr, "signature") || strings.Contains(r.stdout, "bob") {
		t.Errorf("tampered list: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	aside, _ := filepath.Glob(file + ".refused-*")
	if len(aside) != 1 {
		t.Errorf("refused file not set aside: %v", aside)
	}
}

// profileDir is where soitto-cli keeps profiles for env.
func profileDir(env []string) string {
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "XDG_DATA_HOME="); ok {
			return filepath.Join(v, "soitto", "profiles")
		}
	}
	return ""
}
