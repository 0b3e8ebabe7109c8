package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestSearchRun runs the search table on a tiny ring and checks that on
// the intact ring every user was found and every absent one reported
// absent.
func TestSearchRun(t *testing.T) {
	o, err := parseFlags([]string{"-only", "search", "-search-n", "8", "-records", "50", "-searches", "40",
		"-search-latency", "0,0.2ms", "-search-crash", "0.25", "-seeds", "1", "-v=false"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out strings.Builder
	if err := run(ctx, &out, o); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + out.String())
	// Rows: N, one-way, crashed, records, searches, records live %,
	// found %, false absent %, not-found correct %, ...
	var intact, crashed int
	for _, line := range strings.Split(out.String(), "\n") {
		f := strings.Fields(line)
		if len(f) != 18 || f[0] != "8" {
			continue
		}
		if f[2] != "0" {
			crashed++
			continue
		}
		intact++
		if f[3] != "50" || f[4] != "40" {
			t.Errorf("row %q: records %s, searches %s; want 50, 40", line, f[3], f[4])
		}
		if f[6] != "100.00" || f[7] != "0.00" || f[8] != "100.00" {
			t.Errorf("intact ring, one-way %s ms: found %s%%, false absent %s%%, not-found correct %s%%; want 100, 0, 100", f[1], f[6], f[7], f[8])
		}
	}
	if intact != 2 || crashed != 2 {
		t.Errorf("%d intact and %d crashed rows, want 2 and 2", intact, crashed)
	}
}
