package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestSmallRun runs every table on small rings and checks that lookups
// in the steady state were all correct.
func TestSmallRun(t *testing.T) {
	o, err := parseFlags([]string{"-n", "16,32", "-lookups", "100", "-latency", "0,0.2ms",
		"-churn-n", "32", "-churn", "2", "-duration", "5s", "-churn-lookups", "20", "-probe", "20", "-v=false"})
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
	for _, want := range []string{"Steady state", "Mass failure", "Churn"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// The steady-state rows: N, latency, ok %, ...
	steady := strings.Split(strings.Split(out.String(), "Maintenance")[0], "\n")
	rows := 0
	for _, line := range steady {
		f := strings.Fields(line)
		if len(f) == 10 && (f[0] == "16" || f[0] == "32") {
			rows++
			if f[2] != "100.00" {
				t.Errorf("steady state N=%s: %s%% of lookups correct, want 100", f[0], f[2])
			}
		}
	}
	if rows != 4 {
		t.Errorf("%d steady-state rows, want 4", rows)
	}
}
