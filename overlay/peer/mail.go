package peer

import (
	"context"
	"fmt"
	"time"

	"soitto/overlay/dir"
	"soitto/overlay/wire"
)

// PutRecord stores rec in the ring directory through the home
// super-peer, which puts it to the record's replica set: for a mail
// (dir.NewMail) or a tombstone (dir.NewMailTombstone). rec is checked
// with dir.Verify first. A refusal of the record comes back as an error
// wrapping its wire sentinel (wire.ErrQuota for a full mailbox,
// wire.ErrStale for a mail already there, ...).
func (p *Peer) PutRecord(ctx context.Context, rec *wire.Record) error {
	if err := dir.Verify(rec, p.roots, time.Now(), dir.Limits{}); err != nil {
		return fmt.Errorf("peer: put: %w", err)
	}
	home, err := p.WaitAttached(ctx)
	if err != nil {
		return err
	}
	resp, err := p.net.Call(ctx, home.Addr, &wire.Envelope{Body: &wire.Envelope_Put{Put: &wire.PutRequest{Record: rec}}})
	if err != nil {
		return fmt.Errorf("peer: put %s/%q: %w", rec.Kind, rec.Name, err)
	}
	if _, ok := resp.Body.(*wire.Envelope_Ok); !ok {
		return wire.Errorf(wire.ErrBadRequest, "peer: %s answered a put with %T", home.Addr, resp.Body)
	}
	return nil
}

// GetRecord finds the record under kind and name through the home
// super-peer: for a mail, kind dir.KindMail and name
// dir.MailHeader.Name(). The record must verify (dir.Verify) and carry
// the kind and name asked for. It fails with an error wrapping
// wire.ErrNotFound when no node holds one.
func (p *Peer) GetRecord(ctx context.Context, kind, name string) (*wire.Record, error) {
	if dir.IsListing(kind, name) {
		return nil, wire.Errorf(wire.ErrBadRequest, "peer: get %s/%q: list a mailbox with ListMail", kind, name)
	}
	recs, home, err := p.get(ctx, kind, name)
	if err != nil {
		return nil, err
	}
	if len(recs) != 1 {
		return nil, wire.Errorf(wire.ErrBadRecord, "peer: %s answered %s/%q with %d records, want 1", home, kind, name, len(recs))
	}
	r := recs[0]
	if r.GetKind() != kind || r.GetName() != name {
		return nil, wire.Errorf(wire.ErrBadRecord, "peer: %s answered %s/%q with %s/%q", home, kind, name, r.GetKind(), r.GetName())
	}
	if err := dir.Verify(r, p.roots, time.Now(), dir.Limits{}); err != nil {
		return nil, fmt.Errorf("peer: %s answered %s/%q: %w", home, kind, name, err)
	}
	return r, nil
}

// ListMail lists recipient's mailbox through the home super-peer: the
// mails waiting (fetch each with GetRecord) and the tombstones of those
// collected, at most dir.MaxList, mails first. The headers are not
// signed; what they name is checked when it is fetched.
func (p *Peer) ListMail(ctx context.Context, recipient string) ([]dir.MailHeader, error) {
	recs, home, err := p.get(ctx, dir.KindMail, recipient)
	if err != nil {
		return nil, err
	}
	hs, err := dir.MailHeaders(recipient, recs, time.Now())
	if err != nil {
		return nil, fmt.Errorf("peer: %s answered a listing: %w", home, err)
	}
	return hs, nil
}

// get sends GetRequest{kind, name} to the home super-peer and returns the
// records it answered with, and its address.
func (p *Peer) get(ctx context.Context, kind, name string) ([]*wire.Record, string, error) {
	home, err := p.WaitAttached(ctx)
	if err != nil {
		return nil, "", err
	}
	resp, err := p.net.Call(ctx, home.Addr, &wire.Envelope{Body: &wire.Envelope_Get{Get: &wire.GetRequest{Kind: kind, Name: name}}})
	if err != nil {
		return nil, home.Addr, fmt.Errorf("peer: get %s/%q: %w", kind, name, err)
	}
	res, ok := resp.Body.(*wire.Envelope_GetResult)
	if !ok {
		return nil, home.Addr, wire.Errorf(wire.ErrBadRequest, "peer: %s answered a get with %T", home.Addr, resp.Body)
	}
	return res.GetResult.GetRecords(), home.Addr, nil
}
