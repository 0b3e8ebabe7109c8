package transfer

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"soitto/internal/atomicfile"
)

// MaxState is the largest state file decodeInState and decodeOutState
// read: the chunk bitmap of MaxChunks chunks is 128 KiB, 171 KiB in
// base64.
const MaxState = 1 << 20

const stateVersion = 1

// inState is what a receiver keeps about an accepted transfer, in
// StateDir/in-<id>.json, rewritten (temp + rename) as chunks verify.
type inState struct {
	V     int     `json:"v"`
	User  string  `json:"user"`
	Offer Control `json:"offer"`
	Dir   string  `json:"dir"`  // destination folder, absolute
	Have  []byte  `json:"have"` // bit i (LSB first) set: chunk i is on disk and verified
	// Hashed chunks [0, Hashed) are in FileHash, the marshaled state of
	// the whole file's SHA-256.
	Hashed   int    `json:"hashed"`
	FileHash []byte `json:"fileHash"`
}

// outState is what a sender keeps about an offered transfer, in
// StateDir/out-<id>.json.
type outState struct {
	V        int     `json:"v"`
	User     string  `json:"user"`
	Offer    Control `json:"offer"`
	Path     string  `json:"path"`    // the file, absolute
	ModTime  int64   `json:"modTime"` // its modification time (Unix ns) when hashed
	Accepted bool    `json:"accepted"`
}

func decodeJSON(b []byte, v any, what string) error {
	if len(b) > MaxState {
		return fmt.Errorf("transfer: %s of %d bytes, limit %d: %w", what, len(b), MaxState, ErrTooLarge)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("transfer: %s: %s", what, oneLine(err.Error()))
	}
	if d.More() {
		return fmt.Errorf("transfer: %s: data after the object", what)
	}
	return nil
}

func checkUser(u string) error {
	if u == "" || len(u) > 64 || strings.ContainsAny(u, "\x00\r\n/") {
		return fmt.Errorf("transfer: user name %q is not valid", clip(u))
	}
	return nil
}

// decodeInState parses and checks a receiver's state file.
func decodeInState(b []byte) (inState, error) {
	var s inState
	if err := decodeJSON(b, &s, "receive state"); err != nil {
		return inState{}, err
	}
	if s.V != stateVersion {
		return inState{}, fmt.Errorf("transfer: receive state version %d, want %d", s.V, stateVersion)
	}
	if err := checkUser(s.User); err != nil {
		return inState{}, err
	}
	if s.Offer.Kind != KindOffer {
		return inState{}, fmt.Errorf("transfer: receive state without an offer")
	}
	if err := s.Offer.check(); err != nil {
		return inState{}, err
	}
	if !filepath.IsAbs(s.Dir) || filepath.Clean(s.Dir) != s.Dir {
		return inState{}, fmt.Errorf("transfer: receive state folder %q is not a clean absolute path", clip(s.Dir))
	}
	n := s.Offer.offer().Chunks()
	if len(s.Have) != (n+7)/8 {
		return inState{}, fmt.Errorf("transfer: receive state bitmap of %d bytes for %d chunks", len(s.Have), n)
	}
	if s.Hashed < 0 || s.Hashed > n {
		return inState{}, fmt.Errorf("transfer: receive state hashed %d of %d chunks", s.Hashed, n)
	}
	for i := range s.Hashed {
		if !bit(s.Have, i) {
			return inState{}, fmt.Errorf("transfer: receive state hashed chunk %d that is not verified", i)
		}
	}
	h := sha256.New()
	if err := h.(interface{ UnmarshalBinary([]byte) error }).UnmarshalBinary(s.FileHash); err != nil {
		return inState{}, fmt.Errorf("transfer: receive state file hash: %s", oneLine(err.Error()))
	}
	return s, nil
}

// decodeOutState parses and checks a sender's state file.
func decodeOutState(b []byte) (outState, error) {
	var s outState
	if err := decodeJSON(b, &s, "send state"); err != nil {
		return outState{}, err
	}
	if s.V != stateVersion {
		return outState{}, fmt.Errorf("transfer: send state version %d, want %d", s.V, stateVersion)
	}
	if err := checkUser(s.User); err != nil {
		return outState{}, err
	}
	if s.Offer.Kind != KindOffer {
		return outState{}, fmt.Errorf("transfer: send state without an offer")
	}
	if err := s.Offer.check(); err != nil {
		return outState{}, err
	}
	if !filepath.IsAbs(s.Path) || filepath.Clean(s.Path) != s.Path {
		return outState{}, fmt.Errorf("transfer: send state path %q is not a clean absolute path", clip(s.Path))
	}
	return s, nil
}

// checkHashes checks a chunk hash list against an offer: its length and
// its root.
func checkHashes(o Offer, list []byte) error {
	if len(list) != o.Chunks()*32 {
		return fmt.Errorf("transfer: hash list of %d bytes for %d chunks: %w", len(list), o.Chunks(), ErrCorrupt)
	}
	if sha256.Sum256(list) != o.Root {
		return fmt.Errorf("transfer: hash list does not match the offer's root: %w", ErrCorrupt)
	}
	return nil
}

// readHashes reads a hash list file, checked against o.
func readHashes(path string, o Offer) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() != int64(o.Chunks())*32 {
		return nil, fmt.Errorf("transfer: %s: %d bytes for %d chunks", path, fi.Size(), o.Chunks())
	}
	list := make([]byte, fi.Size())
	if _, err := f.ReadAt(list, 0); err != nil {
		return nil, err
	}
	if err := checkHashes(o, list); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return list, nil
}

func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(b, '\n'), 0o600)
}

func bit(m []byte, i int) bool { return m[i/8]&(1<<(i%8)) != 0 }
func setBit(m []byte, i int)   { m[i/8] |= 1 << (i % 8) }

func writeFileAtomic(path string, data []byte) error {
	return atomicfile.WriteFile(path, data, 0o600)
}
