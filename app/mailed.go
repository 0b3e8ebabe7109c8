package app

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"sync"
	"time"

	"soitto/internal/atomicfile"
	"soitto/overlay/dir"
)

// maxMailed bounds the mailed file: entries of ~150 bytes, far more than
// the ring's quota of mail per recipient times a buddy list.
const maxMailed = 4 << 20

// mailedEntry is a pending message left on the ring: for whom, under
// which mail record name, until when.
type mailedEntry struct {
	User    string    `json:"user"`
	Name    string    `json:"name"`
	Expires time.Time `json:"expires"`
}

// mailedSet is the messages this user left on the ring and has not yet
// seen collected, kept in the profile (mailed.json) so that a restart
// neither seals them twice nor forgets to look for their delivery.
type mailedSet struct {
	path string
	mu   sync.Mutex // guards m; held while saving
	m    map[[16]byte]mailedEntry
}

func openMailed(path string) *mailedSet {
	s := &mailedSet{path: path, m: map[[16]byte]mailedEntry{}}
	data, err := readMailedFile(path)
	if err == nil {
		s.m, err = decodeMailed(data)
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		// Forgetting costs a second sealed copy, which the recipient
		// drops as a duplicate: nothing is lost.
		s.m = map[[16]byte]mailedEntry{}
	}
	return s
}

func readMailedFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(io.LimitReader(f, maxMailed+1)); err != nil {
		return nil, err
	}
	if b.Len() > maxMailed {
		return nil, fmt.Errorf("%s: over %d bytes", path, maxMailed)
	}
	return b.Bytes(), nil
}

// decodeMailed reads the mailed file: a JSON object from message IDs (32
// hex digits) to entries whose names are mail record names.
func decodeMailed(data []byte) (map[[16]byte]mailedEntry, error) {
	if len(data) > maxMailed {
		return nil, fmt.Errorf("mailed file of %d bytes, limit %d", len(data), maxMailed)
	}
	var raw map[string]mailedEntry
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("mailed file: %v", err)
	}
	out := make(map[[16]byte]mailedEntry, len(raw))
	for k, e := range raw {
		var id [16]byte
		if b, err := hex.DecodeString(k); err != nil || len(b) != 16 {
			return nil, fmt.Errorf("mailed file: message ID %q is not 32 hex digits", k)
		} else {
			copy(id[:], b)
		}
		if len(e.Name) > dir.MaxName || e.User == "" || len(e.User) > dir.MaxName {
			return nil, fmt.Errorf("mailed file: entry %s has a bad user or name", k)
		}
		out[id] = e
	}
	return out, nil
}

func (s *mailedSet) has(id [16]byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.m[id]
	return ok
}

func (s *mailedSet) all() map[[16]byte]mailedEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.m)
}

func (s *mailedSet) add(id [16]byte, e mailedEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[id] = e
	return s.saveLocked()
}

func (s *mailedSet) remove(id [16]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[id]; !ok {
		return
	}
	delete(s.m, id)
	s.saveLocked()
}

func (s *mailedSet) saveLocked() error {
	raw := make(map[string]mailedEntry, len(s.m))
	for id, e := range s.m {
		raw[mailID(id)] = e
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(s.path, b, 0o600)
}
