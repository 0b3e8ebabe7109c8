package transfer

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
)

// hashFile reads f once and fills o.SHA256 and o.Root; it returns the
// chunk hash list. It holds one chunk in memory.
func hashFile(ctx context.Context, f *os.File, o *Offer) ([]byte, error) {
	whole := sha256.New()
	list := make([]byte, 0, o.Chunks()*32)
	buf := make([]byte, min(o.Chunk, max(o.Size, 1)))
	for i := range o.Chunks() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n := o.chunkLen(i)
		if _, err := io.ReadFull(f, buf[:n]); err != nil {
			return nil, fmt.Errorf("transfer: reading %s: %w (did it change?)", f.Name(), err)
		}
		whole.Write(buf[:n])
		sum := sha256.Sum256(buf[:n])
		list = append(list, sum[:]...)
	}
	whole.Sum(o.SHA256[:0])
	o.Root = sha256.Sum256(list)
	return list, nil
}
