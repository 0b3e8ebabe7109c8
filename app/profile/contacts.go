package profile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"soitto/internal/atomicfile"
)

// More files in a profile folder.
const (
	ContactsFile = "contacts.json"
	StatusFile   = "status"
	HostsFile    = "hosts.json"
	ControlFile  = "control.sock"
)

// MaxContacts is how many contacts a profile keeps.
const MaxContacts = 1000

const (
	maxContactsFile = 256 << 10
	maxStatusFile   = 64
	maxContactName  = 128
)

// ErrBadContacts wraps every reason a contacts file is refused.
var ErrBadContacts = errors.New("bad contacts file")

// Contact is a user in the contact list. (The signed, encrypted buddy
// list replaces this file in a later version.)
type Contact struct {
	Name  string    `json:"name"`
	Added time.Time `json:"added"`
}

type contactsFile struct {
	Version  int       `json:"version"`
	Contacts []Contact `json:"contacts"`
}

// Contacts returns the saved contact list; none when there is no file.
func (p *Profile) Contacts() ([]Contact, error) {
	data, err := readLimited(filepath.Join(p.Dir, ContactsFile), maxContactsFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	cs, err := ParseContacts(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(p.Dir, ContactsFile), err)
	}
	return cs, nil
}

// SaveContacts replaces the contact list.
func (p *Profile) SaveContacts(cs []Contact) error {
	if len(cs) > MaxContacts {
		return fmt.Errorf("%d contacts, at most %d", len(cs), MaxContacts)
	}
	if cs == nil {
		cs = []Contact{}
	}
	b, err := json.MarshalIndent(contactsFile{Version: 1, Contacts: cs}, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(p.Dir, ContactsFile), append(b, '\n'), 0o600)
}

// ParseContacts reads a contacts file: version 1, at most MaxContacts
// entries with distinct, non-empty names, no unknown fields.
func ParseContacts(data []byte) ([]Contact, error) {
	if len(data) > maxContactsFile {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrBadContacts, len(data), maxContactsFile)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f contactsFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadContacts, oneLine(err.Error()))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the contact list", ErrBadContacts)
	}
	if f.Version != 1 {
		return nil, fmt.Errorf("%w: version %d, want 1", ErrBadContacts, f.Version)
	}
	if len(f.Contacts) > MaxContacts {
		return nil, fmt.Errorf("%w: %d contacts, at most %d", ErrBadContacts, len(f.Contacts), MaxContacts)
	}
	seen := map[string]bool{}
	for _, c := range f.Contacts {
		switch {
		case c.Name == "" || len(c.Name) > maxContactName || strings.ContainsAny(c.Name, " \t\r\n/\\"):
			return nil, fmt.Errorf("%w: contact name %q", ErrBadContacts, oneLine(c.Name))
		case seen[c.Name]:
			return nil, fmt.Errorf("%w: %q listed twice", ErrBadContacts, c.Name)
		}
		seen[c.Name] = true
	}
	return f.Contacts, nil
}

// Status returns the status the user chose last ("online" when none).
func (p *Profile) Status() (string, error) {
	data, err := readLimited(filepath.Join(p.Dir, StatusFile), maxStatusFile)
	if errors.Is(err, os.ErrNotExist) {
		return "online", nil
	}
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(data)), nil
}

// SaveStatus keeps the chosen status for the next start.
func (p *Profile) SaveStatus(s string) error {
	return atomicfile.WriteFile(filepath.Join(p.Dir, StatusFile), []byte(s+"\n"), 0o600)
}

// HostsPath is where the profile keeps its host cache.
func (p *Profile) HostsPath() string { return filepath.Join(p.Dir, HostsFile) }

// ControlPath is the socket a running session listens on for commands
// from other programs of the same user (soitto-cli status).
func (p *Profile) ControlPath() string { return filepath.Join(p.Dir, ControlFile) }

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
