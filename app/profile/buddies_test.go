package profile

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"soitto/login/ca"
)

const listPassword = "correct horse battery staple"

// buddiesNet is a test network: a CA and its roots.
type buddiesNet struct {
	ca    *ca.CA
	roots *x509.CertPool
}

func newBuddiesNet(t testing.TB) *buddiesNet {
	t.Helper()
	c, err := ca.Create(t.TempDir(), "test network")
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(c.Cert)
	return &buddiesNet{ca: c, roots: roots}
}

// user returns a key and a user certificate for name.
func (n *buddiesNet) user(t testing.TB, name string) (*ecdsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := ca.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := n.ca.IssueUser(name, key.Public())
	if err != nil {
		t.Fatal(err)
	}
	return key, cert
}

// listUser is alice with her profile folder and keys.
type listUser struct {
	p    *Profile
	key  *ecdsa.PrivateKey
	cert *x509.Certificate
	lk   *ListKey
}

func newListUser(t testing.TB, n *buddiesNet, name string) *listUser {
	t.Helper()
	key, cert := n.user(t, name)
	p := &Profile{Dir: t.TempDir(), Username: name}
	lk, err := p.ListKey(listPassword, fastKDF)
	if err != nil {
		t.Fatal(err)
	}
	return &listUser{p: p, key: key, cert: cert, lk: lk}
}

func (u *listUser) save(t testing.TB, l *BuddyList) {
	t.Helper()
	if err := u.p.SaveBuddies(l, u.lk, u.key, u.cert); err != nil {
		t.Fatal(err)
	}
}

func (u *listUser) file() string { return filepath.Join(u.p.Dir, BuddiesFile) }

func sampleList() BuddyList {
	added := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return BuddyList{Privacy: "everyone", Buddies: []Buddy{
		{Name: "robert.the.builder", State: BuddyContact, Added: added, Key: bytes.Repeat([]byte{7}, 91)},
		{Name: "carolina.requested", State: BuddyRequested, Added: added, Message: "hello carolina, it is alice from the choir"},
		{Name: "dmitri.pending", State: BuddyPending, Added: added, Message: "dmitri would like to talk", Key: []byte{1, 2}, NewKey: []byte{3, 4}},
		{Name: "eve.the.blocked", State: BuddyBlocked, Added: added},
	}}
}

func sameBuddies(a, b []Buddy) bool {
	return slices.EqualFunc(a, b, func(x, y Buddy) bool {
		return x.Name == y.Name && x.State == y.State && x.Added.Equal(y.Added) && x.Message == y.Message &&
			bytes.Equal(x.Key, y.Key) && bytes.Equal(x.NewKey, y.NewKey)
	})
}

func refusedFiles(t *testing.T, u *listUser) []string {
	t.Helper()
	m, err := filepath.Glob(u.file() + ".refused-*")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestBuddiesRoundTrip(t *testing.T) {
	n := newBuddiesNet(t)
	alice := newListUser(t, n, "alice")
	l, err := alice.p.LoadBuddies(alice.lk, n.roots, "alice")
	if err != nil || l.Version != 0 || len(l.Buddies) != 0 || l.Privacy != "contacts" {
		t.Fatalf("no file: got %+v %v, want an empty list", l, err)
	}
	want := sampleList()
	for v := uint64(1); v <= 3; v++ {
		alice.save(t, &want)
		if want.Version != v {
			t.Fatalf("after save: got version %d, want %d", want.Version, v)
		}
		// A new key from the file, as at the next login.
		lk, err := alice.p.ListKey(listPassword, fastKDF)
		if err != nil {
			t.Fatal(err)
		}
		got, err := alice.p.LoadBuddies(lk, n.roots, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != v || got.Privacy != "everyone" || !sameBuddies(got.Buddies, want.Buddies) {
			t.Fatalf("got %+v, want %+v", got, want)
		}
	}
	seen, _ := os.ReadFile(filepath.Join(alice.p.Dir, BuddiesSeenFile))
	if string(seen) != "3\n" {
		t.Errorf("%s: got %q, want %q", BuddiesSeenFile, seen, "3\n")
	}
	fi, err := os.Stat(alice.file())
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode: got %v %v, want 0600", fi.Mode().Perm(), err)
	}
	// A version behind what was seen still saves above it.
	stale := BuddyList{Version: 1}
	alice.save(t, &stale)
	if stale.Version != 4 {
		t.Errorf("saving version 1 after 3: got %d, want 4", stale.Version)
	}

	// Nothing of the list in clear, neither in the file nor in its
	// decoded header fields.
	raw, _ := os.ReadFile(alice.file())
	h, err := decodeBuddies(raw)
	if err != nil {
		t.Fatal(err)
	}
	hay := [][]byte{raw, h.Salt, h.Check, h.Nonce, h.Ciphertext, h.Sig}
	for _, b := range sampleList().Buddies {
		for _, s := range []string{b.Name, b.Message, `"` + string(b.State) + `"`, "everyone"} {
			for _, in := range hay {
				if s != "" && bytes.Contains(in, []byte(s)) {
					t.Errorf("%q appears in clear", s)
				}
			}
		}
	}
}

func TestBuddiesRefused(t *testing.T) {
	n := newBuddiesNet(t)
	alice := newListUser(t, n, "alice")
	old := sampleList()
	alice.save(t, &old)
	oldFile, _ := os.ReadFile(alice.file())
	l := sampleList()
	l.Version = old.Version
	alice.save(t, &l)
	good, _ := os.ReadFile(alice.file())
	msgs := map[string]string{} // one per kind of refusal

	check := func(t *testing.T, data []byte, want error, movedAside bool) string {
		t.Helper()
		if err := os.WriteFile(alice.file(), data, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := alice.p.LoadBuddies(alice.lk, n.roots, "alice")
		if !errors.Is(err, want) {
			t.Fatalf("got %v, want %v", err, want)
		}
		msg := err.Error()
		if strings.Contains(msg, "\n") {
			t.Errorf("got a message of several lines: %q", msg)
		}
		if len(got.Buddies) != 0 || got.Version != 2 {
			t.Errorf("got %+v with the error, want an empty list at the version seen (2)", got)
		}
		aside := refusedFiles(t, alice)
		_, statErr := os.Stat(alice.file())
		if movedAside {
			if len(aside) != 1 || !errors.Is(statErr, os.ErrNotExist) || !strings.Contains(msg, aside[0]) {
				t.Fatalf("not set aside as said: %v, %v, %q", aside, statErr, msg)
			}
			if kept, _ := os.ReadFile(aside[0]); !bytes.Equal(kept, data) {
				t.Fatal("the file set aside differs from the refused one")
			}
			os.Remove(aside[0])
			msg = strings.TrimSuffix(msg, "; it was set aside as "+aside[0])
		} else if len(aside) != 0 || statErr != nil {
			t.Fatalf("moved although only the password is wrong: %v, %v", aside, statErr)
		}
		t.Log(msg)
		return msg
	}

	t.Run("flipped bytes", func(t *testing.T) {
		// At several offsets inside every field, one base64 character
		// for another valid one: the signature no longer verifies.
		header, _ := bytes.CutPrefix(bytes.TrimSuffix(good, []byte("\n")), []byte(buddiesMagic))
		tried := 0
		for _, field := range []string{"salt", "check", "nonce", "ciphertext", "cert", "sig"} {
			i := bytes.Index(header, []byte(`"`+field+`":"`))
			start := len(buddiesMagic) + i + len(field) + 4
			end := start + bytes.IndexByte(good[start:], '"')
			for _, off := range []int{start, (start + end) / 2, end - 3} {
				data := bytes.Clone(good)
				if data[off] == 'A' {
					data[off] = 'B'
				} else {
					data[off] = 'A'
				}
				if m := check(t, data, ErrBuddiesTampered, true); off == (start+end)/2 {
					msgs["flipped"] = m
				}
				tried++
			}
		}
		// KDF parameters are signed too.
		check(t, bytes.Replace(good, []byte(`"memory":1024`), []byte(`"memory":1025`), 1), ErrBuddiesTampered, true)
		// Every byte, xor 1: refused, never loaded.
		for off := range good {
			data := bytes.Clone(good)
			data[off] ^= 1
			if err := os.WriteFile(alice.file(), data, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := alice.p.LoadBuddies(alice.lk, n.roots, "alice")
			if !errors.Is(err, ErrBuddiesTampered) && !errors.Is(err, ErrBadBuddies) {
				t.Fatalf("byte %d flipped: got %v, want a refusal", off, err)
			}
			if off > len(buddiesMagic) && !errors.Is(err, ErrBuddiesTampered) {
				t.Errorf("byte %d flipped: got %v, want ErrBuddiesTampered", off, err)
			}
			for _, a := range refusedFiles(t, alice) {
				os.Remove(a)
			}
		}
		t.Logf("%d chosen and %d xor-1 flips refused", tried, len(good))
	})
	t.Run("damaged", func(t *testing.T) {
		msgs["cut"] = check(t, good[:len(good)/2], ErrBuddiesTampered, true)
		msgs["not a list"] = check(t, []byte("not a buddy list\n"), ErrBadBuddies, true)
		msgs["format 9"] = check(t, []byte("SOITTO-BUDDIES 9\n{}"), ErrBadBuddies, true)
		// The same values spelled otherwise.
		msgs["respelled"] = check(t, bytes.Replace(good, []byte(`{"kdf"`), []byte(`{ "kdf"`), 1), ErrBuddiesTampered, true)
	})
	t.Run("rolled back", func(t *testing.T) {
		msgs["rolled back"] = check(t, oldFile, ErrBuddiesRolledBack, true)
	})
	t.Run("wrong password", func(t *testing.T) {
		if err := os.WriteFile(alice.file(), good, 0o600); err != nil {
			t.Fatal(err)
		}
		lk, err := alice.p.ListKey("not the password", fastKDF)
		if err != nil {
			t.Fatal(err)
		}
		saved := alice.lk
		alice.lk = lk
		defer func() { alice.lk = saved }()
		msgs["password"] = check(t, good, ErrBuddiesPassword, false)
		if err := alice.p.SaveBuddies(&l, lk, alice.key, alice.cert); err == nil {
			t.Fatal("saved over a list sealed with the right password using a wrong one")
		}
	})
	t.Run("another user's list", func(t *testing.T) {
		mallory := newListUser(t, n, "mallory")
		ml := sampleList()
		ml.Version = 9
		mallory.save(t, &ml)
		data, _ := os.ReadFile(mallory.file())
		msgs["another user"] = check(t, data, ErrBuddiesTampered, true)
	})
	t.Run("another network's certificate", func(t *testing.T) {
		other := newBuddiesNet(t)
		fake := newListUser(t, other, "alice")
		fl := sampleList()
		fl.Version = 9
		fake.save(t, &fl)
		data, _ := os.ReadFile(fake.file())
		msgs["another network"] = check(t, data, ErrBuddiesTampered, true)
	})

	byMsg := map[string]string{}
	for kind, m := range msgs {
		if other, ok := byMsg[m]; ok {
			t.Errorf("%s and %s both say %q", kind, other, m)
		}
		byMsg[m] = kind
	}
	if len(msgs) != 9 {
		t.Errorf("got %d kinds of refusal, want 9", len(msgs))
	}
	if !strings.Contains(msgs["rolled back"], "is version 1, older than version 2 last seen here") {
		t.Errorf("rolled back: got %q", msgs["rolled back"])
	}
	// Good again, untouched by all this.
	if err := os.WriteFile(alice.file(), good, 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := alice.p.LoadBuddies(alice.lk, n.roots, "alice"); err != nil || got.Version != 2 {
		t.Fatalf("got %v %v, want version 2", got.Version, err)
	}
}

func TestBuddiesExpiredCertificate(t *testing.T) {
	// A CA made three days ago, and a certificate it issued two days ago:
	// long expired, still good for signing the list.
	dir := t.TempDir()
	caKey, _ := ca.GenerateKey()
	then := time.Now().Add(-72 * time.Hour)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "old CA"},
		NotBefore: then, NotAfter: then.Add(10 * 365 * 24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(der)
	if err := ca.WriteKeyNew(filepath.Join(dir, ca.CAKeyFile), caKey); err != nil {
		t.Fatal(err)
	}
	if err := ca.WriteCert(filepath.Join(dir, ca.CACertFile), caCert); err != nil {
		t.Fatal(err)
	}
	c, err := ca.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	c.SetClock(func() time.Time { return time.Now().Add(-48 * time.Hour) })
	n := &buddiesNet{ca: c, roots: x509.NewCertPool()}
	n.roots.AddCert(c.Cert)
	alice := newListUser(t, n, "alice")
	if time.Now().Before(alice.cert.NotAfter) {
		t.Fatal("the certificate has not expired")
	}
	l := sampleList()
	alice.save(t, &l)
	if _, err := alice.p.LoadBuddies(alice.lk, n.roots, "alice"); err != nil {
		t.Fatalf("expired signer: got %v, want the list", err)
	}
}

func TestBuddiesExportImport(t *testing.T) {
	n := newBuddiesNet(t)
	alice := newListUser(t, n, "alice")
	l := sampleList()
	alice.save(t, &l)
	path := filepath.Join(t.TempDir(), "alice.soitto")
	if err := ExportBuddies(path, l, alice.lk, alice.key, alice.cert); err != nil {
		t.Fatal(err)
	}
	if err := ExportBuddies(path, BuddyList{}, alice.lk, alice.key, alice.cert); err == nil {
		t.Fatal("export overwrote a file")
	}
	// On another machine: another key, the same user and password.
	got, err := ImportBuddies(path, listPassword, n.roots, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != l.Version || !sameBuddies(got.Buddies, l.Buddies) {
		t.Fatalf("got %+v, want %+v", got, l)
	}
	bob := newListUser(t, n, "alice")
	got.Version = 0
	bob.save(t, &got)
	if back, err := bob.p.LoadBuddies(bob.lk, n.roots, "alice"); err != nil || !sameBuddies(back.Buddies, l.Buddies) {
		t.Fatalf("imported and saved: got %v %v", back, err)
	}
	if _, err := ImportBuddies(path, "wrong", n.roots, "alice"); !errors.Is(err, ErrBuddiesPassword) {
		t.Fatalf("wrong password: got %v, want ErrBuddiesPassword", err)
	}
	if _, err := ImportBuddies(path, listPassword, n.roots, "bob"); !errors.Is(err, ErrBuddiesTampered) {
		t.Fatalf("as bob: got %v, want ErrBuddiesTampered", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("import moved the file: %v", err)
	}
}

func TestBuddiesMigrateContacts(t *testing.T) {
	n := newBuddiesNet(t)
	alice := newListUser(t, n, "alice")
	cs := []Contact{{Name: "bob", Added: time.Unix(1700000000, 0).UTC()}, {Name: "carol", Added: time.Unix(1700000100, 0).UTC()}}
	if err := alice.p.SaveContacts(cs); err != nil {
		t.Fatal(err)
	}
	l, err := alice.p.LoadBuddies(alice.lk, n.roots, "alice")
	if err != nil {
		t.Fatal(err)
	}
	want := []Buddy{{Name: "bob", State: BuddyContact, Added: cs[0].Added}, {Name: "carol", State: BuddyContact, Added: cs[1].Added}}
	if l.Version != 0 || !sameBuddies(l.Buddies, want) {
		t.Fatalf("got %+v, want version 0 and %+v", l, want)
	}
	alice.save(t, &l)
	// Once there has been a buddy list, contacts.json is the past.
	os.Remove(alice.file())
	if l, err := alice.p.LoadBuddies(alice.lk, n.roots, "alice"); err != nil || len(l.Buddies) != 0 || l.Version != 1 {
		t.Fatalf("got %+v %v, want an empty list at version 1", l, err)
	}
}

func TestBuddiesLimits(t *testing.T) {
	n := newBuddiesNet(t)
	alice := newListUser(t, n, "alice")
	many := make([]Buddy, MaxContacts+1)
	for i := range many {
		many[i] = Buddy{Name: "user" + strconv.Itoa(i), State: BuddyContact}
	}
	for name, l := range map[string]BuddyList{
		"too many":     {Buddies: many},
		"long name":    {Buddies: []Buddy{{Name: strings.Repeat("a", 129), State: BuddyContact}}},
		"empty name":   {Buddies: []Buddy{{State: BuddyContact}}},
		"twice":        {Buddies: []Buddy{{Name: "bob", State: BuddyContact}, {Name: "bob", State: BuddyBlocked}}},
		"state":        {Buddies: []Buddy{{Name: "bob", State: "friend"}}},
		"long message": {Buddies: []Buddy{{Name: "bob", State: BuddyPending, Message: strings.Repeat("m", 201)}}},
		"long key":     {Buddies: []Buddy{{Name: "bob", State: BuddyContact, Key: make([]byte, 201)}}},
		"privacy":      {Privacy: "nobody"},
	} {
		err := alice.p.SaveBuddies(&l, alice.lk, alice.key, alice.cert)
		if !errors.Is(err, ErrBadBuddies) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: got %v, want ErrBadBuddies", name, err)
		}
	}
	full := BuddyList{Buddies: many[:MaxContacts]}
	for i := range full.Buddies {
		full.Buddies[i].Name = strings.Repeat("n", 120) + strconv.Itoa(i)
		full.Buddies[i].Message = strings.Repeat("m", 200)
		full.Buddies[i].Key = make([]byte, 200)
		full.Buddies[i].NewKey = make([]byte, 200)
	}
	alice.save(t, &full)
	if l, err := alice.p.LoadBuddies(alice.lk, n.roots, "alice"); err != nil || len(l.Buddies) != MaxContacts {
		t.Fatalf("a full list: got %d buddies, %v", len(l.Buddies), err)
	}
	// Signed by bob but saved into alice's profile: refused at once.
	bobKey, bobCert := n.user(t, "bob")
	if err := alice.p.SaveBuddies(&full, alice.lk, bobKey, bobCert); err == nil {
		t.Error("saved alice's list with bob's certificate")
	}
	if err := alice.p.SaveBuddies(&full, alice.lk, bobKey, alice.cert); err == nil {
		t.Error("saved with a key that is not the certificate's")
	}
}

func TestListKeyCost(t *testing.T) {
	n := newBuddiesNet(t)
	alice := newListUser(t, n, "alice")
	l := sampleList()
	alice.save(t, &l)
	// Asked for a higher cost: the file opens, and is sealed at the new
	// cost from the next save on.
	higher := KDF{Memory: 2048, Time: 2, Threads: 1}
	lk, err := alice.p.ListKey(listPassword, higher)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.p.LoadBuddies(lk, n.roots, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := alice.p.SaveBuddies(&l, lk, alice.key, alice.cert); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(alice.file())
	h, err := decodeBuddies(raw)
	if err != nil || h.Params != higher {
		t.Fatalf("got %+v %v, want %+v", h.Params, err, higher)
	}
	// The same key still opens and saves it.
	if _, err := alice.p.LoadBuddies(lk, n.roots, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := alice.p.SaveBuddies(&l, lk, alice.key, alice.cert); err != nil {
		t.Fatal(err)
	}
	if _, err := DeriveListKey("x", KDF{Memory: 1 << 30, Time: 1, Threads: 1}); err == nil {
		t.Error("derived a key with 1 TiB of memory")
	}
}

const saveLoopEnv = "SOITTO_TEST_BUDDIES_SAVE_LOOP"

// TestHelperSaveLoop is the child of TestBuddiesKill: it saves the list
// of the profile in $SOITTO_TEST_BUDDIES_SAVE_LOOP until it is killed.
func TestHelperSaveLoop(t *testing.T) {
	dir := os.Getenv(saveLoopEnv)
	if dir == "" {
		t.Skip("run by TestBuddiesKill")
	}
	key, err := ca.ReadKey(filepath.Join(dir, "user.key"))
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.ReadCert(filepath.Join(dir, "user.crt"))
	if err != nil {
		t.Fatal(err)
	}
	p := &Profile{Dir: filepath.Join(dir, "profile"), Username: "alice"}
	lk, err := p.ListKey(listPassword, fastKDF)
	if err != nil {
		t.Fatal(err)
	}
	l := sampleList()
	for {
		if err := p.SaveBuddies(&l, lk, key, cert); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBuddiesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	n := newBuddiesNet(t)
	dir := t.TempDir()
	key, cert := n.user(t, "alice")
	if err := ca.WriteKeyNew(filepath.Join(dir, "user.key"), key); err != nil {
		t.Fatal(err)
	}
	if err := ca.WriteCert(filepath.Join(dir, "user.crt"), cert); err != nil {
		t.Fatal(err)
	}
	p := &Profile{Dir: filepath.Join(dir, "profile"), Username: "alice"}
	if err := os.Mkdir(p.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	var last uint64
	for round := range 5 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperSaveLoop$", "-test.count=1")
		cmd.Env = append(os.Environ(), saveLoopEnv+"="+dir)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Once the child is saving, let it run ~300 ms (a little more each
		// round, to land elsewhere in a save), then kill -9.
		deadline := time.Now().Add(30 * time.Second)
		for seen, _ := p.seenVersion(); seen <= last && time.Now().Before(deadline); seen, _ = p.seenVersion() {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(300*time.Millisecond + time.Duration(round)*7*time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("round %d: the child ended by itself (%v): %s", round, err, out.Bytes())
		}
		lk, err := p.ListKey(listPassword, fastKDF)
		if err != nil {
			t.Fatal(err)
		}
		l, err := p.LoadBuddies(lk, n.roots, "alice")
		if err != nil {
			t.Fatalf("round %d: after kill -9: %v", round, err)
		}
		if l.Version < 1 || l.Version <= last || !sameBuddies(l.Buddies, sampleList().Buddies) {
			t.Fatalf("round %d: got version %d (last %d), %d buddies", round, l.Version, last, len(l.Buddies))
		}
		t.Logf("round %d: killed at version %d", round, l.Version)
		last = l.Version
	}
}

func TestBuddiesFileShape(t *testing.T) {
	n := newBuddiesNet(t)
	alice := newListUser(t, n, "alice")
	l := BuddyList{}
	alice.save(t, &l)
	raw, _ := os.ReadFile(alice.file())
	if !bytes.HasPrefix(raw, []byte("SOITTO-BUDDIES 1\n{\"kdf\":\"argon2id\",\"params\":{\"memory\":1024,\"time\":1,\"threads\":1},\"salt\":\"")) ||
		bytes.Count(raw, []byte("\n")) != 2 {
		t.Fatalf("got %.120q", raw)
	}
	if h, err := decodeBuddies(raw); err != nil || !bytes.Equal(h.Cert, alice.cert.Raw) {
		t.Errorf("the header's cert is not the signer's certificate (%v)", err)
	}
}
