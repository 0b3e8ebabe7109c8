//go:build linux && (amd64 || arm64)

package main

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// TestMain lets the test binary be the relay process: the tool starts
// os.Executable() with "serve-ours".
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "serve-ours" {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// A small run against our relay prints the table with packets received
// in both directions.
func TestSmoke(t *testing.T) {
	defer goleak.VerifyNone(t)
	var out, errb bytes.Buffer
	code := run([]string{"--allocations", "20", "--duration", "2s", "--settle", "300ms", "--server", "ours"}, nil, &out, &errb)
	t.Logf("stdout:\n%s\nstderr:\n%s", out.String(), errb.String())
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var row []string
	for _, l := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == "ours" {
			row = f
		}
	}
	// server allocs window pkts/s sent received loss% ...
	if len(row) != 17 {
		t.Fatalf("no row for ours with 17 cells: %q", row)
	}
	allocs, _ := strconv.Atoi(row[1])
	sent, _ := strconv.Atoi(row[4])
	recv, _ := strconv.Atoi(row[5])
	if allocs != 20 {
		t.Errorf("got %d allocations, want 20", allocs)
	}
	// 20 allocations × 50/s × 2 s, both directions: about 4000.
	if sent < 2000 || recv <= 0 || recv > sent {
		t.Errorf("got sent %d, received %d; want sent ≥ 2000 and 0 < received ≤ sent", sent, recv)
	}
	if !strings.Contains(out.String(), "0 dropped by rate limits") {
		t.Errorf("our relay's rate limits dropped packets or its counters are missing")
	}
}
