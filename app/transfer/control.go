package transfer

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxControl is the largest control message DecodeControl accepts.
const MaxControl = 16 << 10

// Control message kinds (the "file" field).
const (
	KindOffer   = "offer"
	KindAccept  = "accept"
	KindDecline = "decline"
	KindCancel  = "cancel"
	KindResume  = "resume"
	KindDone    = "done"
)

// Limits on what an offer may describe.
const (
	MinChunk  = 64 << 10
	MaxChunk  = 16 << 20
	MaxChunks = 1 << 20 // the hash list is at most 32 MiB
	MaxName   = 255     // bytes, as most file systems allow
	maxReason = 200
)

// Control is one control message. Which fields are set depends on Kind;
// see the package documentation.
type Control struct {
	Kind   string `json:"file"`
	ID     string `json:"id"`
	Name   string `json:"name,omitempty"`
	Size   int64  `json:"size,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
	Chunk  int64  `json:"chunk,omitempty"`
	Root   string `json:"root,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// controlPrefix starts every encoded control message, so a carrier that
// shares its channel with other messages can route ours (IsControl).
var controlPrefix = []byte(`{"file":`)

// IsControl reports whether msg looks like one of this package's control
// messages, for a carrier that multiplexes several kinds on one channel.
func IsControl(msg []byte) bool { return bytes.HasPrefix(msg, controlPrefix) }

// Encode is c's wire form.
func (c Control) Encode() []byte {
	b, err := json.Marshal(c)
	if err != nil {
		panic(err) // only strings and integers
	}
	return b
}

// DecodeControl parses and checks a control message: at most MaxControl
// bytes, no unknown fields, the fields its kind needs and no others.
func DecodeControl(b []byte) (Control, error) {
	var c Control
	if len(b) > MaxControl {
		return c, fmt.Errorf("transfer: control message of %d bytes, limit %d: %w", len(b), MaxControl, ErrTooLarge)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&c); err != nil {
		return Control{}, fmt.Errorf("transfer: control message: %s", oneLine(err.Error()))
	}
	if d.More() {
		return Control{}, fmt.Errorf("transfer: control message: data after the object")
	}
	if err := c.check(); err != nil {
		return Control{}, err
	}
	return c, nil
}

func (c Control) check() error {
	if !validID(c.ID) {
		return fmt.Errorf("transfer: control message: id %q is not 32 lowercase hex digits", clip(c.ID))
	}
	offerFields := c.Name != "" || c.Size != 0 || c.SHA256 != "" || c.Chunk != 0 || c.Root != ""
	switch c.Kind {
	case KindOffer:
		if c.Reason != "" {
			return fmt.Errorf("transfer: offer with a reason")
		}
		var sum [32]byte
		if !decodeSum(sum[:], c.SHA256) || !decodeSum(sum[:], c.Root) {
			return fmt.Errorf("transfer: offer sha256 or root is not 64 lowercase hex digits")
		}
		return c.offer().check()
	case KindDecline, KindCancel:
		if len(c.Reason) > maxReason || !utf8.ValidString(c.Reason) || strings.ContainsAny(c.Reason, "\r\n") {
			return fmt.Errorf("transfer: %s: reason is not one line of at most %d bytes", c.Kind, maxReason)
		}
	case KindAccept, KindResume, KindDone:
		if c.Reason != "" {
			return fmt.Errorf("transfer: %s with a reason", c.Kind)
		}
	default:
		return fmt.Errorf("transfer: unknown control kind %q", clip(c.Kind))
	}
	if offerFields {
		return fmt.Errorf("transfer: %s with offer fields", c.Kind)
	}
	return nil
}

// Offer describes a file a sender offers.
type Offer struct {
	ID     string
	Name   string   // base name, checked by checkName
	Size   int64    // bytes
	SHA256 [32]byte // of the whole file
	Chunk  int64    // chunk size; the last chunk may be shorter
	Root   [32]byte // SHA-256 of the chunk hashes, concatenated
}

// Chunks is how many chunks the file has (at least one, even if empty).
func (o Offer) Chunks() int {
	if o.Size == 0 {
		return 1
	}
	return int((o.Size + o.Chunk - 1) / o.Chunk)
}

// chunkLen is the length of chunk i.
func (o Offer) chunkLen(i int) int64 {
	start := int64(i) * o.Chunk
	return min(o.Chunk, o.Size-start)
}

func (o Offer) check() error {
	if !validID(o.ID) {
		return fmt.Errorf("transfer: offer id %q is not 32 lowercase hex digits", clip(o.ID))
	}
	if err := checkName(o.Name); err != nil {
		return err
	}
	if o.Chunk < MinChunk || o.Chunk > MaxChunk {
		return fmt.Errorf("transfer: offer chunk size %d outside %d..%d", o.Chunk, MinChunk, MaxChunk)
	}
	if o.Size < 0 || o.Size > MaxChunks*o.Chunk {
		return fmt.Errorf("transfer: offer size %d outside 0..%d for chunk size %d", o.Size, MaxChunks*o.Chunk, o.Chunk)
	}
	return nil
}

func (c Control) offer() Offer {
	o := Offer{ID: c.ID, Name: c.Name, Size: c.Size, Chunk: c.Chunk}
	if !decodeSum(o.SHA256[:], c.SHA256) || !decodeSum(o.Root[:], c.Root) {
		o.Chunk = -1 // fails check, as a hash that is not 64 lowercase hex digits
	}
	return o
}

// decodeSum decodes 64 lowercase hex digits into dst.
func decodeSum(dst []byte, s string) bool {
	if len(s) != 64 {
		return false
	}
	if _, err := hex.Decode(dst, []byte(s)); err != nil {
		return false
	}
	return hex.EncodeToString(dst) == s
}

// Offer is c's offer; c must be a checked KindOffer message.
func (c Control) Offer() Offer { return c.offer() }

func offerControl(o Offer) Control {
	return Control{Kind: KindOffer, ID: o.ID, Name: o.Name, Size: o.Size,
		SHA256: hex.EncodeToString(o.SHA256[:]), Chunk: o.Chunk, Root: hex.EncodeToString(o.Root[:])}
}

// checkName refuses names that are not a plain file name on every
// system the receiver might run: no separators, no control characters,
// not "." or "..", at most MaxName bytes of UTF-8.
func checkName(name string) error {
	switch {
	case name == "" || name == "." || name == "..":
		return fmt.Errorf("transfer: file name %q is not a file name", name)
	case len(name) > MaxName:
		return fmt.Errorf("transfer: file name of %d bytes, limit %d", len(name), MaxName)
	case !utf8.ValidString(name):
		return fmt.Errorf("transfer: file name is not UTF-8")
	case strings.ContainsAny(name, `/\:`):
		return fmt.Errorf("transfer: file name %q contains a path separator", clip(name))
	case strings.TrimSpace(name) != name || strings.HasSuffix(name, "."):
		return fmt.Errorf("transfer: file name %q starts or ends with a space or ends with a dot", clip(name))
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return fmt.Errorf("transfer: file name %q contains a control character", clip(name))
		}
	}
	return nil
}

func validID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
