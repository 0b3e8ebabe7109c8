package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildBinaries builds the named commands without cgo, as servers are
// shipped, into a temporary folder. soitto-cli built so has no audio;
// buildWithAudio builds it with cgo.
func buildBinaries(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	goBuild(t, dir, "0", names...)
	return dir
}

// buildWithAudio adds soitto-cli with audio (cgo: Opus, miniaudio) to
// the binaries in dir.
func buildWithAudio(t *testing.T, dir string) {
	t.Helper()
	goBuild(t, dir, "1", "soitto-cli")
}

func goBuild(t *testing.T, dir, cgo string, names ...string) {
	t.Helper()
	args := []string{"build", "-o", dir + "/"}
	for _, n := range names {
		args = append(args, "soitto/cmd/"+n)
	}
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED="+cgo)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type result struct {
	stdout, stderr string
	code           int
}

func runCmd(t *testing.T, env []string, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return result{o.String(), e.String(), code}
}

// TestLoginEndToEnd is the "Done when": init, serve, register,
// login, whoami; Alice is taken; a wrong password fails; the certificate
// verifies against the CA with openssl.
func TestLoginEndToEnd(t *testing.T) {
	bin := buildBinaries(t, "soitto-login", "soitto-cli")
	login, cli := filepath.Join(bin, "soitto-login"), filepath.Join(bin, "soitto-cli")
	srvDir := filepath.Join(t.TempDir(), "server")
	addr := freeAddr(t)

	r := runCmd(t, nil, login, "init", "--dir", srvDir, "--listen", addr)
	if r.code != 0 {
		t.Fatalf("init: exit %d: %s", r.code, r.stderr)
	}
	for _, f := range []string{"ca.key", "server.key"} {
		fi, err := os.Stat(filepath.Join(srvDir, f))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: got mode %v, want 0600", f, fi.Mode().Perm())
		}
	}
	caKey, _ := os.ReadFile(filepath.Join(srvDir, "ca.key"))
	if r := runCmd(t, nil, login, "init", "--dir", srvDir, "--listen", addr); r.code == 0 {
		t.Fatal("a second init over existing keys succeeded, want a refusal")
	}
	if again, _ := os.ReadFile(filepath.Join(srvDir, "ca.key")); !bytes.Equal(again, caKey) {
		t.Fatal("a second init changed ca.key")
	}

	serve := startServe(t, login, srvDir)
	waitHealthy(t, addr)

	network := filepath.Join(srvDir, "network.json")
	home := t.TempDir()
	env := []string{"HOME=" + home, "XDG_DATA_HOME=" + filepath.Join(home, "data"), "XDG_CONFIG_HOME=" + filepath.Join(home, "config")}
	alice := append(env, "SOITTO_PASSWORD=correct horse battery")

	if r := runCmd(t, alice, cli, "--network", network, "register", "alice"); r.code != 0 || !strings.Contains(r.stdout, "registered alice") {
		t.Fatalf("register alice: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = runCmd(t, alice, cli, "--json", "login")
	if r.code != 0 {
		t.Fatalf("login: exit %d: %s", r.code, r.stderr)
	}
	var id struct {
		Username string    `json:"username"`
		NotAfter time.Time `json:"not_after"`
		Valid    bool      `json:"valid"`
		Profile  string    `json:"profile"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &id); err != nil {
		t.Fatalf("login --json: %v: %q", err, r.stdout)
	}
	if id.Username != "alice" || !id.Valid {
		t.Fatalf("login: got %+v, want a valid certificate for alice", id)
	}
	if d := time.Until(id.NotAfter); d < 23*time.Hour || d > 25*time.Hour {
		t.Errorf("certificate expires in %v, want about 24h", d)
	}
	r = runCmd(t, env, cli, "whoami")
	if r.code != 0 || !strings.Contains(r.stdout, "alice") || !strings.Contains(r.stdout, "valid") {
		t.Fatalf("whoami: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	// The name is taken whatever its case.
	r = runCmd(t, append(env, "SOITTO_PASSWORD=another password"), cli, "--network", network, "register", "Alice")
	if r.code == 0 || !strings.Contains(r.stderr, "taken") {
		t.Fatalf("register Alice: exit %d, stderr %q; want a failure saying the name is taken", r.code, r.stderr)
	}
	if strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Errorf("register Alice: the reason is not one line: %q", r.stderr)
	}

	// A wrong password fails: on this machine the key does not unlock, and
	// from a new machine (an empty profile) the server refuses.
	wrong := append(env, "SOITTO_PASSWORD=not the password")
	if r := runCmd(t, wrong, cli, "login"); r.code == 0 || !strings.Contains(r.stderr, "wrong password") {
		t.Fatalf("login with a wrong password: exit %d, stderr %q", r.code, r.stderr)
	}
	other := filepath.Join(t.TempDir(), "new-machine")
	if r := runCmd(t, wrong, cli, "--profile", other, "--network", network, "login", "alice"); r.code == 0 || !strings.Contains(r.stderr, "wrong username or password") {
		t.Fatalf("login from a new machine with a wrong password: exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(other, "identity.key")); err == nil {
		t.Error("a failed login left a profile behind")
	}
	// With the right password a new machine gets its own key and certificate.
	if r := runCmd(t, alice, cli, "--profile", other, "--network", network, "login", "alice"); r.code != 0 {
		t.Fatalf("login from a new machine: exit %d, stderr %q", r.code, r.stderr)
	}

	// openssl, which nobody here wrote, agrees the certificate is the CA's.
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatalf("openssl not found (scripts/install-deps.sh installs it): %v", err)
	}
	certPath := filepath.Join(id.Profile, "cert.pem")
	r = runCmd(t, nil, "openssl", "verify", "-purpose", "sslclient", "-CAfile", filepath.Join(srvDir, "ca.crt"), certPath)
	if r.code != 0 || !strings.Contains(r.stdout, ": OK") {
		t.Fatalf("openssl verify: exit %d, %s %s", r.code, r.stdout, r.stderr)
	}
	r = runCmd(t, nil, "openssl", "x509", "-in", certPath, "-noout", "-subject")
	if !strings.Contains(r.stdout, "CN = alice") && !strings.Contains(r.stdout, "CN=alice") {
		t.Errorf("certificate subject %q, want CN alice", r.stdout)
	}
	// And refuses it against another network's CA.
	otherCA := filepath.Join(t.TempDir(), "other")
	runCmd(t, nil, login, "init", "--dir", otherCA, "--listen", freeAddr(t))
	if r := runCmd(t, nil, "openssl", "verify", "-CAfile", filepath.Join(otherCA, "ca.crt"), certPath); r.code == 0 {
		t.Fatal("openssl verified alice's certificate against another CA")
	}

	stopServe(t, serve)
}

func startServe(t *testing.T, login, dir string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(login, "serve", "--dir", dir)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		if t.Failed() {
			t.Logf("soitto-login serve log:\n%s", logs.String())
		}
	})
	return cmd
}

func stopServe(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve exited with %v after SIGTERM, want 0", err)
		}
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		t.Error("serve did not stop within 15 s of SIGTERM")
	}
}

// waitHealthy polls /v1/health for up to 10 s. The check skips TLS
// verification: it only asks whether the process is up; the CLI does the
// real verification.
func waitHealthy(t *testing.T, addr string) {
	t.Helper()
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	defer hc.CloseIdleConnections()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := hc.Get(fmt.Sprintf("https://%s/v1/health", addr))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("soitto-login on %s not healthy within 10 s (%s)", addr, runtime.GOOS)
}
