package chat

// The history file. This comment is the spec of chat.db.
//
// chat.db is one SQLite database (WAL, synchronous=FULL: a commit is on
// disk before a receiver acknowledges). What would say who talks to whom
// or what was said is sealed with keys derived from the 32-byte key the
// app gives (Config.Key) with HKDF-SHA256 (no salt):
//
//	kmsg   = HKDF(key, info "soitto chat rows v1")    AES-256-GCM
//	kname  = HKDF(key, info "soitto chat names v1")   HMAC-SHA256
//	kcheck = HKDF(key, info "soitto chat check v1")
//
//	meta(k, v)       "format" = "1"; "check" = HMAC-SHA256(kcheck,
//	                 "soitto chat check"), which tells a wrong key from
//	                 a damaged file
//	peers(peer, name, out_next, in_next)
//	                 peer = HMAC-SHA256(kname, name): the lookup key;
//	                 name = seal(name, aad "soitto chat peer v1\x00" || peer);
//	                 out_next = the seq of the next message to the peer;
//	                 in_next = every seq from the peer below it is shown
//	messages(id, peer, outgoing, seq, state, held, offline, pos, body)
//	                 id = the message ID; peer as above; state = 0
//	                 pending, 2 delivered, 3 received; held = 1 while an
//	                 incoming message waits for an earlier seq; pos = the
//	                 place in the conversation (NULL while held);
//	                 body = seal(1 || time (i64 Unix ms) || u8 len(name) ||
//	                 name || text, aad = "soitto chat row v1\x00" || id ||
//	                 peer || outgoing (1 byte) || seq (u64))
//
// where seal(p, aad) = nonce (12 random bytes) || AES-256-GCM(kmsg,
// nonce, p, aad), integers big-endian. The additional data binds a body
// to its row's ID, conversation, direction and seq, so bodies cannot be
// swapped between rows. Sealed data are not compressed (compression
// would leak the text's redundancy through the row's size).

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"soitto/internal/sqlitedb"
)

const (
	storeFormat = "1"
	rowCtx      = "soitto chat row v1\x00"
	peerCtx     = "soitto chat peer v1\x00"
	checkCtx    = "soitto chat check"
	nonceLen    = 12
)

const schema = `
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS peers (
	peer     BLOB PRIMARY KEY,
	name     BLOB NOT NULL,
	out_next INTEGER NOT NULL,
	in_next  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
	id       BLOB PRIMARY KEY,
	peer     BLOB NOT NULL,
	outgoing INTEGER NOT NULL,
	seq      INTEGER NOT NULL,
	state    INTEGER NOT NULL,
	held     INTEGER NOT NULL,
	offline  INTEGER NOT NULL,
	pos      INTEGER UNIQUE,
	body     BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_conv ON messages(peer, pos);
CREATE INDEX IF NOT EXISTS messages_held ON messages(peer, seq) WHERE held = 1;
CREATE INDEX IF NOT EXISTS messages_pending ON messages(peer, seq) WHERE outgoing = 1 AND state = 0;
`

// store is chat.db with its keys. It has no lock of its own: the engine
// calls it with its mutex held.
type store struct {
	db    *sql.DB
	aead  cipher.AEAD
	kname []byte
}

// peerRow is a peers row.
type peerRow struct {
	name    string
	outNext uint64
	inNext  uint64
}

func openStore(ctx context.Context, path string, key []byte) (*store, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("chat: key of %d bytes, want 32", len(key))
	}
	kmsg, err := hkdf.Key(sha256.New, key, nil, "soitto chat rows v1", 32)
	if err != nil {
		return nil, err
	}
	kname, err := hkdf.Key(sha256.New, key, nil, "soitto chat names v1", 32)
	if err != nil {
		return nil, err
	}
	kcheck, err := hkdf.Key(sha256.New, key, nil, "soitto chat check v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(kmsg)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	db, err := sqlitedb.Open(path, "synchronous(FULL)")
	if err != nil {
		return nil, fmt.Errorf("chat: %w", err)
	}
	s := &store{db: db, aead: aead, kname: kname}
	if err := s.init(ctx, kcheck); err != nil {
		db.Close()
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	return s, nil
}

// init makes the schema of a new file and checks the key and format of
// an old one.
func (s *store) init(ctx context.Context, kcheck []byte) error {
	m := hmac.New(sha256.New, kcheck)
	m.Write([]byte(checkCtx))
	check := m.Sum(nil)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("chat: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("chat: schema: %w", err)
	}
	var format string
	var have []byte
	err = tx.QueryRowContext(ctx, `SELECT v FROM meta WHERE k = 'format'`).Scan(&format)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta (k, v) VALUES ('format', ?), ('check', ?)`, storeFormat, check); err != nil {
			return fmt.Errorf("chat: %w", err)
		}
		return tx.Commit()
	}
	if err != nil {
		return fmt.Errorf("chat: %w", err)
	}
	if format != storeFormat {
		return fmt.Errorf("chat: history format %q, this Soitto reads %s", truncate(format, 20), storeFormat)
	}
	if err := tx.QueryRowContext(ctx, `SELECT v FROM meta WHERE k = 'check'`).Scan(&have); err != nil {
		return fmt.Errorf("%w: no key check (%v)", ErrCorrupt, err)
	}
	if !hmac.Equal(have, check) {
		return ErrWrongKey
	}
	return tx.Commit()
}

func (s *store) close() error { return s.db.Close() }

// peerHash is the peer column for name.
func (s *store) peerHash(name string) []byte {
	m := hmac.New(sha256.New, s.kname)
	m.Write([]byte(name))
	return m.Sum(nil)
}

func (s *store) seal(plain, aad []byte) []byte {
	out := make([]byte, nonceLen, nonceLen+len(plain)+s.aead.Overhead())
	rand.Read(out)
	return s.aead.Seal(out, out[:nonceLen], plain, aad)
}

func (s *store) open(sealed, aad []byte) ([]byte, error) {
	if len(sealed) < nonceLen+s.aead.Overhead() {
		return nil, fmt.Errorf("%w: sealed data of %d bytes", ErrCorrupt, len(sealed))
	}
	p, err := s.aead.Open(nil, sealed[:nonceLen], sealed[nonceLen:], aad)
	if err != nil {
		return nil, fmt.Errorf("%w: a row does not decrypt (changed outside Soitto?)", ErrCorrupt)
	}
	return p, nil
}

func rowAAD(id [16]byte, peer []byte, outgoing bool, seq uint64) []byte {
	b := make([]byte, 0, len(rowCtx)+16+len(peer)+1+8)
	b = append(b, rowCtx...)
	b = append(b, id[:]...)
	b = append(b, peer...)
	b = append(b, boolByte(outgoing))
	return binary.BigEndian.AppendUint64(b, seq)
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// sealBody is the body column of m.
func (s *store) sealBody(m *Message, peer []byte) []byte {
	p := make([]byte, 0, 1+8+1+len(m.Peer)+len(m.Text))
	p = append(p, 1)
	p = binary.BigEndian.AppendUint64(p, uint64(m.Time.UnixMilli()))
	p = append(p, byte(len(m.Peer)))
	p = append(p, m.Peer...)
	p = append(p, m.Text...)
	return s.seal(p, rowAAD(m.ID, peer, m.Outgoing, m.Seq))
}

// openBody fills m's Time, Peer and Text from a body column; m's ID,
// Outgoing and Seq must be set.
func (s *store) openBody(m *Message, peer, body []byte) error {
	p, err := s.open(body, rowAAD(m.ID, peer, m.Outgoing, m.Seq))
	if err != nil {
		return err
	}
	if len(p) < 10 || p[0] != 1 || len(p) < 10+int(p[9]) {
		return fmt.Errorf("%w: a row's body does not decode", ErrCorrupt)
	}
	m.Time = time.UnixMilli(int64(binary.BigEndian.Uint64(p[1:])))
	n := int(p[9])
	m.Peer = string(p[10 : 10+n])
	m.Text = string(p[10+n:])
	return nil
}

func (s *store) sealName(name string, peer []byte) []byte {
	return s.seal([]byte(name), append([]byte(peerCtx), peer...))
}

// loadPeers reads every peers row, by name.
func (s *store) loadPeers(ctx context.Context) (map[string]peerRow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT peer, name, out_next, in_next FROM peers`)
	if err != nil {
		return nil, fmt.Errorf("chat: %w", err)
	}
	defer rows.Close()
	out := map[string]peerRow{}
	for rows.Next() {
		var peer, name []byte
		var r peerRow
		var outNext, inNext int64
		if err := rows.Scan(&peer, &name, &outNext, &inNext); err != nil {
			return nil, fmt.Errorf("chat: %w", err)
		}
		n, err := s.open(name, append([]byte(peerCtx), peer...))
		if err != nil {
			return nil, err
		}
		r.name, r.outNext, r.inNext = string(n), uint64(outNext), uint64(inNext)
		if !bytes.Equal(s.peerHash(r.name), peer) {
			return nil, fmt.Errorf("%w: a peer's name does not match its key", ErrCorrupt)
		}
		out[r.name] = r
	}
	return out, rows.Err()
}

// savePeer writes r.
func (s *store) savePeer(ctx context.Context, tx *sql.Tx, r peerRow) error {
	peer := s.peerHash(r.name)
	_, err := tx.ExecContext(ctx, `INSERT INTO peers (peer, name, out_next, in_next) VALUES (?, ?, ?, ?)
		ON CONFLICT (peer) DO UPDATE SET out_next = excluded.out_next, in_next = excluded.in_next`,
		peer, s.sealName(r.name, peer), int64(r.outNext), int64(r.inNext))
	return err
}

// insert adds m; pos 0 stores NULL (held).
func (s *store) insert(ctx context.Context, tx *sql.Tx, m *Message, held bool, pos int64) error {
	peer := s.peerHash(m.Peer)
	var p any
	if pos > 0 {
		p = pos
	}
	st := m.State
	if st == StateSent {
		st = StatePending
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO messages (id, peer, outgoing, seq, state, held, offline, pos, body)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID[:], peer, m.Outgoing, int64(m.Seq), int(st), held, m.Offline, p, s.sealBody(m, peer))
	return err
}

// has reports whether a message with id is stored.
func (s *store) has(ctx context.Context, tx *sql.Tx, id [16]byte) (bool, error) {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM messages WHERE id = ?`, id[:]).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// heldRow is an incoming message held for an earlier seq.
type heldRow struct {
	id  [16]byte
	seq uint64
}

// releasable returns the held messages from peer that can be shown when
// every seq below inNext is: those below it, then those that follow on
// without a gap; all of them if all is set. It returns the new inNext.
func (s *store) releasable(ctx context.Context, tx *sql.Tx, peer string, inNext uint64, all bool) ([]heldRow, uint64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, seq FROM messages WHERE peer = ? AND held = 1 ORDER BY seq`, s.peerHash(peer))
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []heldRow
	for rows.Next() {
		var id []byte
		var seq int64
		if err := rows.Scan(&id, &seq); err != nil {
			return nil, 0, err
		}
		if uint64(seq) > inNext && !all {
			break
		}
		var h heldRow
		copy(h.id[:], id)
		h.seq = uint64(seq)
		out = append(out, h)
		inNext = max(inNext, h.seq+1)
	}
	return out, inNext, rows.Err()
}

// release shows a held message at pos.
func (s *store) release(ctx context.Context, tx *sql.Tx, id [16]byte, pos int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE messages SET held = 0, pos = ? WHERE id = ?`, pos, id[:])
	return err
}

// setDelivered marks an outgoing message to peer delivered; it reports
// whether it was pending.
func (s *store) setDelivered(ctx context.Context, tx *sql.Tx, peer string, id [16]byte) (bool, error) {
	r, err := tx.ExecContext(ctx, `UPDATE messages SET state = ? WHERE id = ? AND peer = ? AND outgoing = 1 AND state = ?`,
		int(StateDelivered), id[:], s.peerHash(peer), int(StatePending))
	if err != nil {
		return false, err
	}
	n, err := r.RowsAffected()
	return n == 1, err
}

const msgColumns = `id, peer, outgoing, seq, state, offline, body`

// scanMessage reads a row of msgColumns.
func (s *store) scanMessage(rows interface{ Scan(...any) error }) (Message, error) {
	var m Message
	var id, peer, body []byte
	var seq int64
	var state int
	if err := rows.Scan(&id, &peer, &m.Outgoing, &seq, &state, &m.Offline, &body); err != nil {
		return Message{}, fmt.Errorf("chat: %w", err)
	}
	if len(id) != 16 {
		return Message{}, fmt.Errorf("%w: a message ID of %d bytes", ErrCorrupt, len(id))
	}
	copy(m.ID[:], id)
	m.Seq, m.State = uint64(seq), State(state)
	if err := s.openBody(&m, peer, body); err != nil {
		return Message{}, err
	}
	return m, nil
}

// message reads the message id.
func (s *store) message(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, id [16]byte) (Message, error) {
	return s.scanMessage(q.QueryRowContext(ctx, `SELECT `+msgColumns+` FROM messages WHERE id = ?`, id[:]))
}

// query runs a SELECT of msgColumns and decrypts each row; keep, if not
// nil, filters, and the scan stops at limit kept rows.
func (s *store) query(ctx context.Context, limit int, keep func(*Message) bool, q string, args ...any) ([]Message, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+msgColumns+` FROM messages `+q, args...)
	if err != nil {
		return nil, fmt.Errorf("chat: %w", err)
	}
	defer rows.Close()
	var out []Message
	for rows.Next() && len(out) < limit {
		m, err := s.scanMessage(rows)
		if err != nil {
			return nil, err
		}
		if keep == nil || keep(&m) {
			out = append(out, m)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("chat: %w", err)
	}
	return out, nil
}

// maxPos is the highest pos stored.
func (s *store) maxPos(ctx context.Context) (int64, error) {
	var p sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT MAX(pos) FROM messages`).Scan(&p); err != nil {
		return 0, fmt.Errorf("chat: %w", err)
	}
	return p.Int64, nil
}

// pendingAll reads every outgoing message not delivered, by peer and seq.
func (s *store) pendingAll(ctx context.Context) ([]Message, error) {
	return s.query(ctx, 1<<62, nil, `WHERE outgoing = 1 AND state = 0 ORDER BY peer, seq`)
}

// heldPeers counts the held messages by peer column.
func (s *store) heldPeers(ctx context.Context) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT peer, COUNT(*) FROM messages WHERE held = 1 GROUP BY peer`)
	if err != nil {
		return nil, fmt.Errorf("chat: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var p []byte
		var n int
		if err := rows.Scan(&p, &n); err != nil {
			return nil, fmt.Errorf("chat: %w", err)
		}
		out[string(p)] = n
	}
	return out, rows.Err()
}
