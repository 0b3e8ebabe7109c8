package profile

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"soitto/internal/atomicfile"
	"soitto/login/ca"
)

// Files of the buddy list in a profile folder.
const (
	// BuddiesFile is the signed, encrypted buddy list (format in
	// buddies_format.go).
	BuddiesFile = "buddies.soitto"
	// BuddiesSeenFile holds the highest buddy list version this profile
	// has loaded or saved, in decimal on one line, so that an old copy put
	// back is noticed. It is not secret and not signed.
	BuddiesSeenFile = "buddies.seen"
)

const (
	privacyContacts = "contacts"
	privacyEveryone = "everyone"
)

var (
	// ErrBuddiesPassword is returned when the password does not open the
	// buddy list; the file is fine and is left in place.
	ErrBuddiesPassword = errors.New("wrong password for the buddy list")
	// ErrBuddiesTampered is returned when the buddy list's signature does
	// not verify, or verifies for someone else than the user.
	ErrBuddiesTampered = errors.New("the buddy list's signature does not verify: it was changed outside Soitto")
	// ErrBuddiesRolledBack is returned when the buddy list is older than
	// one this profile has already loaded or saved.
	ErrBuddiesRolledBack = errors.New("the buddy list is older than one seen here: an old copy was put back")
	// ErrBadBuddies wraps every other reason a buddy list is refused (not
	// a buddy list, over a limit, bad content).
	ErrBadBuddies = errors.New("bad buddy list")
)

// BuddyState is where a user stands in the buddy list.
type BuddyState string

// The states of a buddy.
const (
	BuddyContact   BuddyState = "contact"   // both accepted
	BuddyRequested BuddyState = "requested" // we asked, they have not accepted
	BuddyPending   BuddyState = "pending"   // they asked us; we have not answered
	BuddyBlocked   BuddyState = "blocked"
)

// Buddy is one entry of the buddy list.
type Buddy struct {
	Name    string     `json:"name"`
	State   BuddyState `json:"state"`
	Added   time.Time  `json:"added"`
	Message string     `json:"message,omitempty"` // the request's short message (≤ 200 bytes)
	Key     []byte     `json:"key,omitempty"`     // pinned: the PKIX DER public key first seen for them
	NewKey  []byte     `json:"new_key,omitempty"` // a different key seen since, not yet accepted
}

// BuddyList is the content of the buddy list file.
type BuddyList struct {
	Version uint64 // grows by one at every save
	Privacy string // "contacts" (default, when empty) or "everyone"
	Buddies []Buddy
}

// ListKey is the key that encrypts the buddy list, derived from the
// password with argon2id and a salt kept in the file (so a list exported
// to another machine opens with the password).
type ListKey struct {
	salt []byte
	kdf  KDF
	key  []byte // AES-256
	// seal, when set, is the key new files are sealed with: Profile.ListKey
	// makes one when the file on disk was made with other KDF parameters
	// than asked for, so that a weakened (or merely old) header does not
	// set the cost of every later file.
	seal *ListKey
}

// DeriveListKey derives a key with a new random salt. If kdf is zero,
// DefaultKDF is used.
func DeriveListKey(password string, kdf KDF) (*ListKey, error) {
	if kdf == (KDF{}) {
		kdf = DefaultKDF
	}
	if err := checkKDF("argon2id", kdf); err != nil {
		return nil, err
	}
	salt := make([]byte, listSaltLen)
	rand.Read(salt)
	return deriveListKey(password, salt, kdf), nil
}

// ListKey derives the key for the profile's buddy list file from the salt
// and parameters in its header, or a new one (DeriveListKey) when there is
// no file or its header is unreadable (LoadBuddies then says why). When
// the file's parameters are not kdf (or DefaultKDF if kdf is zero), it
// derives a second key with kdf and a new salt, which SaveBuddies uses:
// the file moves to the cost asked for at its next save.
func (p *Profile) ListKey(password string, kdf KDF) (*ListKey, error) {
	if kdf == (KDF{}) {
		kdf = DefaultKDF
	}
	data, err := readBuddies(p.buddiesPath())
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, ErrBadBuddies) {
		return DeriveListKey(password, kdf)
	}
	if err != nil {
		return nil, err
	}
	h, err := decodeBuddies(data)
	if err != nil {
		return DeriveListKey(password, kdf)
	}
	// The parameters are bounded by decodeBuddies, but not yet signed:
	// the signature needs the network's roots, which LoadBuddies has.
	k := deriveListKey(password, bytes.Clone(h.Salt), h.Params)
	if h.Params != kdf {
		if k.seal, err = DeriveListKey(password, kdf); err != nil {
			return nil, err
		}
	}
	return k, nil
}

func (k *ListKey) sealer() *ListKey {
	if k.seal != nil {
		return k.seal
	}
	return k
}

// forHeader is the key (k or its seal key) made for h's salt and
// parameters, or nil.
func (k *ListKey) forHeader(h *buddiesHeader) *ListKey {
	for _, c := range []*ListKey{k, k.seal} {
		if c != nil && bytes.Equal(c.salt, h.Salt) && c.kdf == h.Params {
			return c
		}
	}
	return nil
}

// LoadBuddies opens the profile's buddy list with k (from ListKey): its
// signature must be by a certificate the CA in roots issued for user, its
// version at least the one in BuddiesSeenFile.
//
// A refused file (ErrBuddiesTampered, ErrBuddiesRolledBack, ErrBadBuddies)
// is renamed to BuddiesFile+".refused-<UTC time>", never overwritten, and
// the error says where it went; the list returned then is empty, with the
// version last seen, for the caller to go on with. A wrong password
// (ErrBuddiesPassword) leaves the file in place.
//
// With no file, the contacts of the older plain contacts.json become
// contacts of the list (version 0), unless this profile has had a buddy
// list before; otherwise the list is empty.
func (p *Profile) LoadBuddies(k *ListKey, roots *x509.CertPool, user string) (BuddyList, error) {
	path := p.buddiesPath()
	seen, err := p.seenVersion()
	if err != nil {
		return BuddyList{}, err
	}
	empty := BuddyList{Version: seen, Privacy: privacyContacts}
	data, err := readBuddies(path)
	if errors.Is(err, os.ErrNotExist) {
		return p.migrateContacts(seen)
	}
	var l BuddyList
	if err == nil {
		l, err = openBuddies(data, roots, user, func(h *buddiesHeader) (*ListKey, error) {
			if k == nil {
				return nil, errors.New("no list key")
			}
			if c := k.forHeader(h); c != nil {
				return c, nil
			}
			return nil, errors.New("the list key was not derived for this buddy list: get it from Profile.ListKey")
		})
	}
	if err == nil && l.Version < seen {
		err = refused(ErrBuddiesRolledBack, "the buddy list is version %d, older than version %d last seen here: an old copy was put back", l.Version, seen)
	}
	if err != nil {
		if !errors.Is(err, ErrBuddiesTampered) && !errors.Is(err, ErrBuddiesRolledBack) && !errors.Is(err, ErrBadBuddies) {
			return empty, fmt.Errorf("%s: %w", path, err)
		}
		aside, aerr := setAside(path)
		if aerr != nil {
			return empty, fmt.Errorf("%s: %w (and it could not be set aside: %v)", path, err, aerr)
		}
		return empty, fmt.Errorf("%s: %w; it was set aside as %s", path, err, aside)
	}
	if l.Version > seen {
		// Not fatal: the next save records a higher version anyway.
		_ = p.writeSeen(l.Version)
	}
	return l, nil
}

// SaveBuddies seals l with k, signs it with key (cert is its user
// certificate, which must name the profile's user) and replaces the
// profile's buddy list. It first sets l.Version to one more than the
// higher of l.Version and the version last seen here, then records that
// version in BuddiesSeenFile. It refuses to replace a file that k does not
// open (one LoadBuddies has not read), since that one would be lost.
func (p *Profile) SaveBuddies(l *BuddyList, k *ListKey, key *ecdsa.PrivateKey, cert *x509.Certificate) error {
	if k == nil || cert == nil {
		return errors.New("saving the buddy list: no list key or no certificate")
	}
	if name, err := ca.UserName(cert); err != nil || name != p.Username {
		return fmt.Errorf("saving the buddy list: the certificate is not %s's", p.Username)
	}
	seen, err := p.seenVersion()
	if err != nil {
		return err
	}
	path := p.buddiesPath()
	if err := checkOverwrite(path, k); err != nil {
		return err
	}
	next := max(l.Version, seen) + 1
	if next == 0 {
		return refused(ErrBadBuddies, "bad buddy list: version overflow")
	}
	out := *l
	out.Version = next
	data, err := sealBuddies(out, k.sealer(), key, cert)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, data, 0o600); err != nil {
		return err
	}
	l.Version = next
	return p.writeSeen(next)
}

// ExportBuddies writes l, sealed with k and signed with key, to path in
// the format of BuddiesFile, at l.Version. It never overwrites a file.
func ExportBuddies(path string, l BuddyList, k *ListKey, key *ecdsa.PrivateKey, cert *x509.Certificate) error {
	if k == nil {
		return errors.New("exporting the buddy list: no list key")
	}
	data, err := sealBuddies(l, k.sealer(), key, cert)
	if err != nil {
		return err
	}
	return atomicfile.WriteNew(path, data, 0o600)
}

// ImportBuddies opens a buddy list exported elsewhere with password. Its
// signer may be another machine's key: any certificate the CA in roots
// issued for user, even expired, is accepted. There is no version check
// and the file is never moved.
func ImportBuddies(path, password string, roots *x509.CertPool, user string) (BuddyList, error) {
	data, err := readBuddies(path)
	if err != nil {
		return BuddyList{}, err
	}
	l, err := openBuddies(data, roots, user, func(h *buddiesHeader) (*ListKey, error) {
		return deriveListKey(password, h.Salt, h.Params), nil
	})
	if err != nil {
		return BuddyList{}, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}

// openBuddies checks a whole file, in the order the spec gives; keyFor
// returns the key for the header, once it is signed.
func openBuddies(data []byte, roots *x509.CertPool, user string, keyFor func(*buddiesHeader) (*ListKey, error)) (BuddyList, error) {
	h, err := decodeBuddies(data)
	if err != nil {
		return BuddyList{}, err
	}
	if err := h.verify(roots, user); err != nil {
		return BuddyList{}, err
	}
	k, err := keyFor(h)
	if err != nil {
		return BuddyList{}, err
	}
	pl, err := h.open(k, user)
	if err != nil {
		return BuddyList{}, err
	}
	if pl.Privacy == "" {
		pl.Privacy = privacyContacts
	}
	return BuddyList{Version: pl.Version, Privacy: pl.Privacy, Buddies: pl.Buddies}, nil
}

// migrateContacts is the list when there is no buddy list file.
func (p *Profile) migrateContacts(seen uint64) (BuddyList, error) {
	l := BuddyList{Version: seen, Privacy: privacyContacts}
	if seen > 0 {
		// This profile has had a buddy list: contacts.json is older.
		return l, nil
	}
	cs, err := p.Contacts()
	if err != nil {
		return l, fmt.Errorf("migrating the contact list: %w", err)
	}
	for _, c := range cs {
		l.Buddies = append(l.Buddies, Buddy{Name: c.Name, State: BuddyContact, Added: c.Added})
	}
	return l, nil
}

func checkOverwrite(path string, k *ListKey) error {
	data, err := readBuddies(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err == nil {
		var h *buddiesHeader
		if h, err = decodeBuddies(data); err == nil {
			if c := k.forHeader(h); c == nil {
				err = errors.New("it was sealed with another key")
			} else if !hmac.Equal(c.check(), h.Check) {
				err = errors.New("it was sealed with another password")
			}
		}
	}
	if err != nil {
		return fmt.Errorf("saving the buddy list: not replacing %s, which was not loaded: %v", path, err)
	}
	return nil
}

func (p *Profile) buddiesPath() string { return filepath.Join(p.Dir, BuddiesFile) }

// readBuddies reads a buddy list file, refusing one over the size limit.
func readBuddies(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxBuddiesFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxBuddiesFile {
		return nil, refused(ErrBadBuddies, "bad buddy list: larger than %d bytes", maxBuddiesFile)
	}
	return data, nil
}

// seenVersion reads BuddiesSeenFile: 0 when it is missing or is not a
// number (whoever can damage it can delete it).
func (p *Profile) seenVersion() (uint64, error) {
	f, err := os.Open(filepath.Join(p.Dir, BuddiesSeenFile))
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 64))
	if err != nil {
		return 0, err
	}
	v, _ := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
	return v, nil
}

func (p *Profile) writeSeen(v uint64) error {
	return atomicfile.WriteFile(filepath.Join(p.Dir, BuddiesSeenFile), []byte(strconv.FormatUint(v, 10)+"\n"), 0o600)
}

// setAside renames a refused file to path.refused-<UTC time>, never over
// another file, and returns the new name.
func setAside(path string) (string, error) {
	base := path + ".refused-" + time.Now().UTC().Format("20060102T150405Z")
	for i := 1; i <= 100; i++ {
		name := base
		if i > 1 {
			name = fmt.Sprintf("%s-%d", base, i)
		}
		// link(2) fails when name exists; rename(2) would replace it.
		err := os.Link(path, name)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		// No fsync of the folder: should the renaming be lost in a
		// crash, the file is refused and set aside again.
		return name, os.Remove(path)
	}
	return "", fmt.Errorf("%s.refused-*: too many", path)
}
