package server_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"soitto/login/api"
	"soitto/login/ca"
	"soitto/login/client"
	"soitto/login/logintest"
	"soitto/login/password"
	"soitto/login/server"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ca.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestRegisterLoginIssuesCertificate(t *testing.T) {
	env := logintest.Serve(t)
	c := client.New(env.Network)
	defer c.Close()
	ctx := ctxT(t)

	name, err := c.Register(ctx, "Alice", "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if name != "alice" {
		t.Fatalf("got normalized name %q, want %q", name, "alice")
	}
	key := newKey(t)
	cert, err := c.Login(ctx, "ALICE", "correct horse", &key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ca.VerifyUser(env.Network.CAPool(), cert, time.Now(), "alice")
	if err != nil || got != "alice" {
		t.Fatalf("VerifyUser: got %q, %v; want alice, nil", got, err)
	}
	if d := cert.NotAfter.Sub(time.Now()); d < 23*time.Hour || d > 24*time.Hour {
		t.Errorf("certificate valid for %v more, want about 24h", d)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		t.Error("certificate is not for the key sent")
	}
}

func TestNamesThatAreTakenOrConfusable(t *testing.T) {
	env := logintest.Serve(t)
	c := client.New(env.Network)
	defer c.Close()
	ctx := ctxT(t)
	if _, err := c.Register(ctx, "alice", "password one"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		want error
	}{
		{"alice", api.ErrUsernameTaken},
		{"Alice", api.ErrUsernameTaken},
		{"ＡＬＩＣＥ", api.ErrUsernameTaken},                       // fullwidth
		{"ａｌｉｃｅ", api.ErrUsernameTaken},                       // fullwidth lower case
		{"ali\u200bce", api.ErrInvalidUsername},               // zero-width space inside
		{"ali\u200dce", api.ErrInvalidUsername},               // zero-width joiner inside
		{"\u0430lice", api.ErrInvalidUsername},                // Cyrillic а among Latin letters
		{"\u0430\u04cf\u0456\u0441\u0435", api.ErrConfusable}, // all Cyrillic, looks like alice
		{"a.lice", api.ErrConfusable},
		{"al", api.ErrInvalidUsername},
	}
	before, _ := env.Store.CountAccounts(ctx)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Register(ctx, tt.name, "password two")
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") || err.Error() == "" {
				t.Errorf("reason %q is not one line", err.Error())
			}
		})
	}
	after, _ := env.Store.CountAccounts(ctx)
	if after != before {
		t.Errorf("got %d accounts after refusals, want %d", after, before)
	}
}

func TestWrongPasswordAndUnknownUser(t *testing.T) {
	env := logintest.Serve(t)
	c := client.New(env.Network)
	defer c.Close()
	ctx := ctxT(t)
	if _, err := c.Register(ctx, "bob", "bob's password"); err != nil {
		t.Fatal(err)
	}
	key := newKey(t)
	for _, tt := range []struct{ user, pw string }{{"bob", "wrong password"}, {"nobody", "whatever pw"}, {"x", "invalid name"}} {
		_, err := c.Login(ctx, tt.user, tt.pw, &key.PublicKey)
		var e *api.Error
		if !errors.As(err, &e) || e.Code != api.CodeBadCredentials || e.Status != http.StatusUnauthorized {
			t.Errorf("login %s: got %v, want 401 bad_credentials", tt.user, err)
		}
	}
}

func TestAccountLockDoublesAfterFiveFailures(t *testing.T) {
	var mu sync.Mutex
	now := time.Unix(time.Now().Unix(), 0) // the store keeps whole seconds
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	env := logintest.Serve(t, func(c *server.Config) { c.Now = clock })
	c := client.New(env.Network)
	defer c.Close()
	ctx := ctxT(t)
	if _, err := c.Register(ctx, "carol", "carol's password"); err != nil {
		t.Fatal(err)
	}
	key := newKey(t)
	for i := 1; i <= 5; i++ {
		if _, err := c.Login(ctx, "carol", "bad guess", &key.PublicKey); !errors.Is(err, api.ErrBadCredentials) {
			t.Fatalf("failure %d: got %v, want bad credentials", i, err)
		}
	}
	// Locked now: even the right password is refused, with Retry-After.
	_, err := c.Login(ctx, "carol", "carol's password", &key.PublicKey)
	var e *api.Error
	if !errors.As(err, &e) || e.Code != api.CodeAccountLocked || e.RetryAfter < 1 {
		t.Fatalf("got %v, want account_locked with Retry-After", err)
	}
	advance(2 * time.Second)
	// The sixth failure locks for 2 s.
	if _, err := c.Login(ctx, "carol", "bad guess", &key.PublicKey); !errors.Is(err, api.ErrBadCredentials) {
		t.Fatalf("got %v, want bad credentials", err)
	}
	acct, _ := env.Store.GetAccount(ctx, "carol")
	if got := acct.LockedUntil.Sub(clock()); got != 2*time.Second {
		t.Errorf("after 6 failures locked for %v, want 2s", got)
	}
	advance(3 * time.Second)
	if _, err := c.Login(ctx, "carol", "carol's password", &key.PublicKey); err != nil {
		t.Fatalf("after the lock ran out: %v", err)
	}
	acct, _ = env.Store.GetAccount(ctx, "carol")
	if acct.Failures != 0 || !acct.LockedUntil.IsZero() {
		t.Errorf("after a good login: failures %d, locked until %v; want 0 and zero", acct.Failures, acct.LockedUntil)
	}
}

func TestPerIPLimits(t *testing.T) {
	env := logintest.Serve(t, func(c *server.Config) {
		c.NoIPLimits = false
		c.IPBurst = 4
		c.IPRate = 0.001
		c.RegBurst = 2
		c.RegRate = 0.001
	})
	c := client.New(env.Network)
	defer c.Close()
	ctx := ctxT(t)
	for i, n := range []string{"dave", "erin"} {
		if _, err := c.Register(ctx, n, "some password"); err != nil {
			t.Fatalf("registration %d: %v", i, err)
		}
	}
	_, err := c.Register(ctx, "frank", "some password")
	var e *api.Error
	if !errors.As(err, &e) || e.Code != api.CodeRegistrationsCap || e.RetryAfter < 1 {
		t.Fatalf("third registration: got %v, want registrations_limited with Retry-After", err)
	}
	if err := c.Health(ctx); err != nil {
		t.Fatalf("fourth request: %v", err)
	}
	err = c.Health(ctx)
	if !errors.As(err, &e) || e.Code != api.CodeRateLimited || e.Status != http.StatusTooManyRequests {
		t.Fatalf("fifth request: got %v, want 429 rate_limited", err)
	}
}

func TestBusyBeyondTheHashQueue(t *testing.T) {
	// One slow hash at a time and one waiting: a burst of logins must get
	// 503 with Retry-After rather than queue without bound.
	slow := password.Params{Memory: 32 << 10, Time: 4, Threads: 1, SaltLen: 16, KeyLen: 32}
	env := logintest.Serve(t, func(c *server.Config) {
		c.Hasher = password.NewHasher(password.HasherConfig{Params: slow, Concurrency: 1, MaxQueue: 1})
	})
	c := client.New(env.Network)
	defer c.Close()
	ctx := ctxT(t)
	if _, err := c.Register(ctx, "grace", "grace's password"); err != nil {
		t.Fatal(err)
	}
	key := newKey(t)
	const n = 12
	errs := make(chan error, n)
	start := make(chan struct{})
	for range n {
		go func() {
			<-start
			_, err := c.Login(ctx, "grace", "grace's password", &key.PublicKey)
			errs <- err
		}()
	}
	close(start)
	var ok, busy int
	for range n {
		err := <-errs
		var e *api.Error
		switch {
		case err == nil:
			ok++
		case errors.As(err, &e) && e.Code == api.CodeBusy && e.Status == http.StatusServiceUnavailable && e.RetryAfter >= 1:
			busy++
		default:
			t.Errorf("got %v, want success or 503 busy", err)
		}
	}
	if ok == 0 || busy == 0 {
		t.Fatalf("got %d ok and %d busy, want some of each", ok, busy)
	}
}

// TestBadInput posts malformed requests straight to the handler: each gets
// a 4xx with a one-line reason, and nothing is stored.
func TestBadInput(t *testing.T) {
	env := logintest.Serve(t)
	ctx := ctxT(t)
	h := env.Server.Handler()
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	der := func(k any) []byte { b, _ := x509.MarshalPKIXPublicKey(k); return b }
	loginBody := func(key []byte) string {
		b, _ := json.Marshal(api.LoginRequest{Username: "alice", Password: "password1", PublicKey: key})
		return string(b)
	}
	tests := []struct {
		name, path, ctype, body string
		status                  int
		code                    string
	}{
		{"malformed json", api.PathRegister, "application/json", `{"username": "x"`, 400, api.CodeBadRequest},
		{"not an object", api.PathRegister, "application/json", `["alice"]`, 400, api.CodeBadRequest},
		{"unknown field", api.PathRegister, "application/json", `{"username":"zed","password":"password1","admin":true}`, 400, api.CodeBadRequest},
		{"trailing data", api.PathRegister, "application/json", `{"username":"zed","password":"password1"} {}`, 400, api.CodeBadRequest},
		{"too large", api.PathRegister, "application/json", `{"username":"zed","password":"` + strings.Repeat("a", api.MaxBody) + `"}`, 413, api.CodeTooLarge},
		{"wrong content type", api.PathRegister, "text/plain", `{"username":"zed","password":"password1"}`, 415, api.CodeUnsupportedType},
		{"no content type", api.PathRegister, "", `{"username":"zed","password":"password1"}`, 415, api.CodeUnsupportedType},
		{"wrong type field", api.PathRegister, "application/json", `{"username":42,"password":"password1"}`, 400, api.CodeBadRequest},
		{"short password", api.PathRegister, "application/json", `{"username":"zed","password":"short"}`, 400, api.CodeInvalidPassword},
		{"long password", api.PathRegister, "application/json", `{"username":"zed","password":"` + strings.Repeat("p", 1025) + `"}`, 400, api.CodeInvalidPassword},
		{"garbage key", api.PathLogin, "application/json", loginBody([]byte("not a key")), 400, api.CodeInvalidKey},
		{"rsa key", api.PathLogin, "application/json", loginBody(der(&rsaKey.PublicKey)), 400, api.CodeInvalidKey},
		{"p384 key", api.PathLogin, "application/json", loginBody(der(&p384.PublicKey)), 400, api.CodeInvalidKey},
		{"ed25519 key", api.PathLogin, "application/json", loginBody(der(edPub)), 400, api.CodeInvalidKey},
		{"missing key", api.PathLogin, "application/json", `{"username":"alice","password":"password1"}`, 400, api.CodeInvalidKey},
		{"key not base64", api.PathLogin, "application/json", `{"username":"alice","password":"password1","public_key":"%%%"}`, 400, api.CodeBadRequest},
		{"unknown path", "/v1/nope", "application/json", `{}`, 404, api.CodeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, tt.path, strings.NewReader(tt.body))
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("got status %d, want %d (%s)", rec.Code, tt.status, rec.Body)
			}
			var er api.ErrorResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &er); err != nil {
				t.Fatalf("body %q is not an error object: %v", rec.Body, err)
			}
			if er.Error.Code != tt.code {
				t.Errorf("got code %q, want %q", er.Error.Code, tt.code)
			}
			if er.Error.Message == "" || strings.Contains(er.Error.Message, "\n") || strings.Contains(er.Error.Message, "goroutine") {
				t.Errorf("message %q is not a one-line reason", er.Error.Message)
			}
		})
	}
	if n, _ := env.Store.CountAccounts(ctx); n != 0 {
		t.Errorf("got %d accounts after bad input, want 0", n)
	}
	req := httptest.NewRequest(http.MethodGet, api.PathLogin, nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET %s: got %d, want 405", api.PathLogin, rec.Code)
	}
}

func TestClientRefusesServerWithWrongPin(t *testing.T) {
	env := logintest.Serve(t)
	other := logintest.Serve(t)
	// A network file that names env's URL but other's CA and pin: the
	// client must not talk to env.
	n := *other.Network
	n.LoginURL = env.Network.LoginURL
	c := client.New(&n)
	defer c.Close()
	err := c.Health(ctxT(t))
	if err == nil {
		t.Fatal("client trusted a server whose certificate is not the pinned one")
	}
	var verr *tls.CertificateVerificationError
	if !errors.As(err, &verr) && !errors.Is(err, client.ErrPinMismatch) {
		t.Logf("refused with: %v", err)
	}
}

func TestMetrics(t *testing.T) {
	env := logintest.Serve(t)
	c := client.New(env.Network)
	defer c.Close()
	ctx := ctxT(t)
	c.Register(ctx, "heidi", "heidi's password")
	key := newKey(t)
	c.Login(ctx, "heidi", "heidi's password", &key.PublicKey)
	c.Login(ctx, "heidi", "bad password", &key.PublicKey)
	rec := httptest.NewRecorder()
	env.Server.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`soitto_login_registrations_total{result="ok"} 1`,
		`soitto_login_logins_total{result="ok"} 1`,
		`soitto_login_logins_total{result="failed"} 1`,
		`soitto_login_request_duration_seconds_count{endpoint="login"} 2`,
		`soitto_login_hash_queue_depth 0`,
	} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
