package chat

import (
	"context"
	"slices"
	"strings"
)

// History returns the last limit messages shown in the conversation with
// peer, oldest first (DefaultLimit if limit ≤ 0). Messages held behind a
// gap are not shown yet.
func (e *Engine) History(peerName string, limit int) ([]Message, error) {
	if err := checkPeer(peerName); err != nil {
		return nil, err
	}
	out, err := e.st.query(context.Background(), limitOr(limit), nil,
		`WHERE peer = ? AND pos IS NOT NULL ORDER BY pos DESC`, e.st.peerHash(peerName))
	return e.finish(out, true), err
}

// HistoryBefore is History for the messages shown before the message
// id: the page before one already shown.
func (e *Engine) HistoryBefore(peerName string, id [16]byte, limit int) ([]Message, error) {
	if err := checkPeer(peerName); err != nil {
		return nil, err
	}
	out, err := e.st.query(context.Background(), limitOr(limit), nil,
		`WHERE peer = ? AND pos < (SELECT pos FROM messages WHERE id = ?) ORDER BY pos DESC`, e.st.peerHash(peerName), id[:])
	return e.finish(out, true), err
}

// Search returns up to limit messages, newest first, of any conversation,
// whose text contains query, ignoring case (DefaultLimit if limit ≤ 0).
// The history is sealed, so it decrypts every message until it has
// enough.
func (e *Engine) Search(query string, limit int) ([]Message, error) {
	if query == "" {
		return nil, nil
	}
	q := strings.ToLower(query)
	out, err := e.st.query(context.Background(), limitOr(limit), func(m *Message) bool {
		return strings.Contains(strings.ToLower(m.Text), q)
	}, `WHERE pos IS NOT NULL ORDER BY pos DESC`)
	return e.finish(out, false), err
}

// Conversations returns the last message shown of every conversation,
// the most recent conversation first.
func (e *Engine) Conversations() ([]Message, error) {
	out, err := e.st.query(context.Background(), 1<<30, nil,
		`JOIN (SELECT MAX(pos) AS last FROM messages WHERE pos IS NOT NULL GROUP BY peer) ON pos = last ORDER BY pos DESC`)
	return e.finish(out, false), err
}

// finish sets the in-memory state (Sent) of pending messages, and puts
// out oldest first if reverse.
func (e *Engine) finish(out []Message, reverse bool) []Message {
	if reverse {
		slices.Reverse(out)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range out {
		m := &out[i]
		if !m.Outgoing || m.State != StatePending {
			continue
		}
		if p := e.peers[m.Peer]; p != nil {
			if j := p.pendingIndex(m.ID); j >= 0 && p.pending[j].sent {
				m.State = StateSent
			}
		}
	}
	return out
}

func limitOr(n int) int {
	if n <= 0 {
		return DefaultLimit
	}
	return n
}
