// Package texttable prints the aligned text tables of the project's
// measuring tools (soitto-sim, soitto-attachbench).
package texttable

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Table prints rows of cells aligned in columns, numbers to the right.
type Table struct{ tw *tabwriter.Writer }

// New starts a table on w with a header row and a rule under it.
func New(w io.Writer, header ...string) *Table {
	t := &Table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)}
	t.Row(header...)
	rule := make([]string, len(header))
	for i, h := range header {
		rule[i] = strings.Repeat("-", len([]rune(h)))
	}
	t.Row(rule...)
	return t
}

// Row adds a row.
func (t *Table) Row(cells ...string) { fmt.Fprintln(t.tw, strings.Join(cells, "\t")+"\t") }

// Flush writes the table out.
func (t *Table) Flush() { t.tw.Flush() }
