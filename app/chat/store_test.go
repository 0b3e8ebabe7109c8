package chat

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestHistoryEncryptedAtRest: neither the texts nor the peer's name are
// in the database's files.
func TestHistoryEncryptedAtRest(t *testing.T) {
	dir := t.TempDir()
	e := openTest(t, dir, "alice", testKey(), nil, 0)
	const secret, peer = "the treasure is under the old oak", "bobbington"
	for i := range 20 {
		if _, err := e.Send(peer, fmt.Sprintf("%s %d", secret, i)); err != nil {
			t.Fatal(err)
		}
	}
	in := Message{ID: newID(), Seq: 1, Time: time.Now(), Text: "reply: " + secret}
	if _, err := e.ReceiveOffline(peer, in); err != nil {
		t.Fatal(err)
	}
	// Read the files while open (the WAL) and after Close.
	check := func(when string) {
		files, _ := filepath.Glob(filepath.Join(dir, "alice.db*"))
		if len(files) == 0 {
			t.Fatal("no database file")
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{secret, "treasure", peer, "reply"} {
				if bytes.Contains(b, []byte(s)) {
					t.Errorf("%s: %s holds %q in clear", when, filepath.Base(f), s)
				}
			}
		}
	}
	check("open")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	check("closed")
	if fi, err := os.Stat(filepath.Join(dir, "alice.db")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("got mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
}

func TestHistoryWrongKey(t *testing.T) {
	dir := t.TempDir()
	e := openTest(t, dir, "alice", testKey(), nil, 0)
	if _, err := e.Send("bob", "hi"); err != nil {
		t.Fatal(err)
	}
	e.Close()
	_, err := Open(Config{Path: filepath.Join(dir, "alice.db"), Key: testKey(), Self: "alice"})
	if !errors.Is(err, ErrWrongKey) {
		t.Fatalf("got %v, want ErrWrongKey", err)
	}
	if _, err := Open(Config{Path: filepath.Join(dir, "alice.db"), Key: make([]byte, 16), Self: "alice"}); err == nil {
		t.Fatal("a 16-byte key: got nil error")
	}
}

// TestHistoryRowsBound: a body moved to another row does not open.
func TestHistoryRowsBound(t *testing.T) {
	dir := t.TempDir()
	key := testKey()
	e := openTest(t, dir, "alice", key, nil, 0)
	a, _ := e.Send("bob", "first")
	b, _ := e.Send("bob", "second")
	if _, err := e.st.db.Exec(`UPDATE messages SET body = (SELECT body FROM messages WHERE id = ?) WHERE id = ?`, a.ID[:], b.ID[:]); err != nil {
		t.Fatal(err)
	}
	if _, err := e.History("bob", 10); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("got %v, want ErrCorrupt", err)
	}
}

func TestHistoryOrderSearchAndRestart(t *testing.T) {
	dir := t.TempDir()
	key := testKey()
	r := newRecorder()
	e := openTest(t, dir, "alice", key, r, 0)
	var sent []Message
	for i := 1; i <= 5; i++ {
		m, err := e.Send("bob", fmt.Sprintf("to bob %d", i))
		if err != nil {
			t.Fatal(err)
		}
		if m.State != StatePending || m.Seq != uint64(i) {
			t.Fatalf("got %v seq %d, want pending seq %d", m.State, m.Seq, i)
		}
		sent = append(sent, m)
		if _, err := e.ReceiveOffline("bob", Message{ID: newID(), Seq: uint64(i), Time: time.Now(), Text: fmt.Sprintf("From Bob %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.Send("carol", "Hello carol, about BOB"); err != nil {
		t.Fatal(err)
	}
	if err := e.MarkDelivered("bob", sent[0].ID); err != nil {
		t.Fatal(err)
	}
	check := func(e *Engine) {
		t.Helper()
		h, err := e.History("bob", 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(h) != 10 {
			t.Fatalf("got %d messages, want 10", len(h))
		}
		for i, m := range h {
			want := fmt.Sprintf("to bob %d", i/2+1)
			if i%2 == 1 {
				want = fmt.Sprintf("From Bob %d", i/2+1)
			}
			if m.Text != want || m.Peer != "bob" || m.Outgoing != (i%2 == 0) {
				t.Errorf("message %d: got %q from/to %s outgoing %v, want %q", i, m.Text, m.Peer, m.Outgoing, want)
			}
		}
		if h[0].State != StateDelivered || h[2].State != StatePending || h[1].State != StateReceived || !h[1].Offline {
			t.Errorf("got states %v %v %v (offline %v), want delivered, received (offline), pending", h[0].State, h[1].State, h[2].State, h[1].Offline)
		}
		last, err := e.History("bob", 3)
		if err != nil || len(last) != 3 || last[2].Text != "From Bob 5" {
			t.Errorf("History(3): got %v, %v; want the last three, oldest first", last, err)
		}
		page, err := e.HistoryBefore("bob", last[0].ID, 2)
		if err != nil || len(page) != 2 || page[1].ID != h[6].ID {
			t.Errorf("HistoryBefore: got %v, %v; want messages 5 and 6", page, err)
		}
		found, err := e.Search("bob 3", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(found) != 2 || found[0].Text != "From Bob 3" || found[1].Text != "to bob 3" {
			t.Errorf("Search: got %v, want From Bob 3 then to bob 3", found)
		}
		found, _ = e.Search("BOB", 100)
		if len(found) != 11 || found[0].Peer != "carol" {
			t.Errorf("Search ignoring case: got %d, want 11, carol's first", len(found))
		}
		conv, err := e.Conversations()
		if err != nil || len(conv) != 2 || conv[0].Peer != "carol" || conv[1].Text != "From Bob 5" {
			t.Errorf("Conversations: got %v, %v", conv, err)
		}
		if p := e.Pending("bob"); len(p) != 4 || p[0].Seq != 2 || p[0].Floor != 2 {
			t.Errorf("Pending: got %v, want seqs 2 to 5 with floor 2", p)
		}
		if got := e.PendingPeers(); len(got) != 2 || got[0] != "bob" || got[1] != "carol" {
			t.Errorf("PendingPeers: got %v, want [bob carol]", got)
		}
	}
	check(e)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e2 := openTest(t, dir, "alice", key, r, 0)
	check(e2)
	// Seq numbers go on after the restart.
	m, err := e2.Send("bob", "after")
	if err != nil || m.Seq != 6 {
		t.Fatalf("got seq %d, %v; want 6", m.Seq, err)
	}
}
