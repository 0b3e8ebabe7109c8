package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"
)

// table prints rows of cells aligned in columns, numbers to the right.
type table struct {
	tw *tabwriter.Writer
}

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)}
	t.row(header...)
	rule := make([]string, len(header))
	for i, h := range header {
		rule[i] = strings.Repeat("-", len([]rune(h)))
	}
	t.row(rule...)
	return t
}

func (t *table) row(cells ...string) {
	fmt.Fprintln(t.tw, strings.Join(cells, "\t")+"\t")
}

func (t *table) flush() { t.tw.Flush() }

func halfLog2(n int) float64 { return math.Log2(float64(n)) / 2 }

// ms formats a duration in milliseconds with enough digits for
// sub-millisecond CPU times.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v < 1:
		return fmt.Sprintf("%.3f", v)
	case v < 100:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

// secs formats a virtual time in seconds.
func secs(d time.Duration) string { return fmt.Sprintf("%.1f", d.Seconds()) }
