package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime/metrics"
	"testing"

	"google.golang.org/protobuf/proto"
)

// FuzzReadFrame feeds ReadFrame arbitrary bytes. It must not panic, must
// not read into (so allocate) a buffer over MaxFrame, must fail only with
// ErrTooLarge, ErrBadRequest or an io error, and what it decodes must
// encode and decode again to the same envelope. The seeds are in
// testdata/fuzz/FuzzReadFrame.
func FuzzReadFrame(f *testing.F) {
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	heapAllocs := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }

	f.Fuzz(func(t *testing.T, in []byte) {
		r := &watchReader{r: bytes.NewReader(in)}
		before := heapAllocs()
		e, err := ReadFrame(r)
		// A backstop against allocating by the length prefix: the
		// heap counter is coarse, so the bound is loose.
		if d := heapAllocs() - before; d > 64*MaxFrame {
			t.Fatalf("ReadFrame of %d bytes allocated %d bytes", len(in), d)
		}
		if r.largest > MaxFrame {
			t.Fatalf("ReadFrame read into a buffer of %d bytes", r.largest)
		}
		if err != nil {
			switch {
			case errors.Is(err, ErrTooLarge):
				if len(in) < 4 || binary.BigEndian.Uint32(in) <= MaxFrame {
					t.Fatalf("ErrTooLarge for a frame within the limit: %v", err)
				}
				if r.total != 4 {
					t.Fatalf("read %d bytes past a refused length prefix", r.total-4)
				}
			case errors.Is(err, ErrBadRequest), err == io.EOF, err == io.ErrUnexpectedEOF:
			default:
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		var buf bytes.Buffer
		if err := WriteFrame(&buf, e); err != nil {
			t.Fatalf("re-encoding %v: %v", e, err)
		}
		again, err := ReadFrame(&buf)
		if err != nil {
			t.Fatalf("decoding the re-encoding of %v: %v", e, err)
		}
		if !proto.Equal(e, again) {
			t.Fatalf("round trip: got %v, want %v", again, e)
		}
	})
}

// watchReader records the largest buffer it was asked to fill and how
// much it gave.
type watchReader struct {
	r       io.Reader
	largest int
	total   int
}

func (w *watchReader) Read(p []byte) (int, error) {
	w.largest = max(w.largest, len(p))
	n, err := w.r.Read(p)
	w.total += n
	return n, err
}
