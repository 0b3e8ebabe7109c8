package wire

import (
	"encoding/binary"
	"fmt"
	"io"
	"sync"

	"google.golang.org/protobuf/proto"
)

const (
	// Version is the protocol version this package speaks, sent in Hello
	// and HelloAck.
	Version = 1

	// MaxFrame is the largest Envelope, in bytes, a frame may carry. A
	// reader refuses a longer length prefix before reading the body.
	MaxFrame = 64 << 10

	// ALPN is the TLS application protocol a dialler offers and a listener
	// requires, so that a Soitto link cannot be mistaken for another
	// protocol on the same port.
	ALPN = "soitto-overlay/1"

	// headerLen is the length prefix: a 4-byte big-endian byte count.
	headerLen = 4
)

// bufPool holds frame buffers; none larger than a whole frame is kept.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// getBuf returns a pooled buffer of length n.
func getBuf(n int) *[]byte { return growBuf(bufPool.Get().(*[]byte), n) }

func putBuf(bp *[]byte) {
	if cap(*bp) <= headerLen+MaxFrame {
		bufPool.Put(bp)
	}
}

// WriteFrame writes e as one frame with a single Write call, so a writer
// shared under a lock never interleaves half frames. An envelope that
// encodes to more than MaxFrame bytes is refused with ErrTooLarge and
// nothing is written; an empty one, or one that cannot be encoded (say, a
// string that is not UTF-8), with ErrBadRequest.
func WriteFrame(w io.Writer, e *Envelope) error {
	size := proto.Size(e)
	switch {
	case size > MaxFrame:
		return fmt.Errorf("%w: frame of %d bytes, limit %d", ErrTooLarge, size, MaxFrame)
	case size == 0:
		return fmt.Errorf("%w: empty envelope", ErrBadRequest)
	}
	bp := getBuf(headerLen + size)
	defer putBuf(bp)
	b, err := proto.MarshalOptions{}.MarshalAppend((*bp)[:headerLen], e)
	if err != nil {
		return fmt.Errorf("%w: encoding: %v", ErrBadRequest, err)
	}
	*bp = b
	n := len(b) - headerLen
	if n > MaxFrame { // the envelope changed under us; never send it
		return fmt.Errorf("%w: frame of %d bytes, limit %d", ErrTooLarge, n, MaxFrame)
	}
	binary.BigEndian.PutUint32(b, uint32(n))
	_, err = w.Write(b)
	return err
}

// ReadFrame reads one frame and decodes its Envelope.
//
// It returns io.EOF if r ends cleanly before a frame starts, and
// io.ErrUnexpectedEOF if it ends inside one; other errors of r come back
// as they are. A length prefix over MaxFrame is refused with ErrTooLarge
// before anything is allocated or read for the body; the stream cannot be
// resynchronised after it. A frame that is not a valid Envelope, and one
// whose Envelope is empty (it encodes to nothing; every message the
// protocol sends has a body or an error), are refused with ErrBadRequest,
// so that whatever ReadFrame returns, WriteFrame can send again.
//
// ReadFrame checks framing and encoding only: whether the body makes
// sense where it arrives is the caller's business. Unknown fields are
// kept, so a newer peer's additions survive being passed on.
func ReadFrame(r io.Reader) (*Envelope, error) {
	// The header is read into its own few bytes, not a pooled buffer: a
	// link's reader waits here while the link is idle, and a pooled buffer
	// held across that wait would cost every idle link a kilobyte.
	var hdr [headerLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	switch {
	case n > MaxFrame:
		return nil, fmt.Errorf("%w: frame of %d bytes, limit %d", ErrTooLarge, n, MaxFrame)
	case n == 0:
		return nil, fmt.Errorf("%w: empty frame", ErrBadRequest)
	}
	bp := getBuf(int(n))
	defer putBuf(bp)
	if _, err := io.ReadFull(r, *bp); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	// proto.Unmarshal copies what it keeps, so the buffer can be reused.
	e := new(Envelope)
	if err := proto.Unmarshal(*bp, e); err != nil {
		return nil, fmt.Errorf("%w: decoding: %v", ErrBadRequest, err)
	}
	if proto.Size(e) == 0 { // say, an explicit id 0 and nothing else
		return nil, fmt.Errorf("%w: empty envelope", ErrBadRequest)
	}
	return e, nil
}

// growBuf makes *bp n bytes long, reallocating only when it is too small.
func growBuf(bp *[]byte, n int) *[]byte {
	if cap(*bp) < n {
		*bp = make([]byte, n)
	}
	*bp = (*bp)[:n]
	return bp
}
