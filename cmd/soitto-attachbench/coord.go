package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"soitto/login/ca"

	"soitto/internal/texttable"
)

type coordOptions struct {
	ns          []int
	users       int
	keepAlive   time.Duration
	settle      time.Duration
	concurrency int
	profile     string
}

// result is one N's measurements.
type result struct {
	n                       int
	before, attached, after memSample
	attachSecs              float64
	retries                 int
	pings, pingErrs, lost   int64
}

func coordinate(ctx context.Context, o coordOptions, stdout, stderr io.Writer) error {
	tmp, err := os.MkdirTemp("", "soitto-attachbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if _, err := ca.Create(tmp, "attachbench"); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "soitto-attachbench: one node, clients in another process; %d user certificates, keepalive %v, idle %v before measuring; GOMAXPROCS=%d, %s\n",
		o.users, o.keepAlive, o.settle, runtime.GOMAXPROCS(0), runtime.Version())
	var results []result
	for _, n := range o.ns {
		r, err := measureN(ctx, o, tmp, n, stderr)
		if err != nil {
			return fmt.Errorf("N=%d: %w", n, err)
		}
		results = append(results, r)
	}
	printResults(stdout, results)
	return nil
}

func measureN(ctx context.Context, o coordOptions, caDir string, n int, stderr io.Writer) (r result, err error) {
	r.n = n
	progress := func(format string, a ...any) { fmt.Fprintf(stderr, "# N=%d: "+format+"\n", append([]any{n}, a...)...) }
	args := []string{"-role", "node", "-ca", caDir, "-count", strconv.Itoa(max(n, 1)), "-keepalive", o.keepAlive.String()}
	if o.profile != "" {
		args = append(args, "-memprofilerate", "1")
	}
	nd, err := startChild(ctx, "node", stderr, args...)
	if err != nil {
		return r, err
	}
	defer func() {
		if e := nd.stop(30 * time.Second); e != nil && err == nil {
			err = fmt.Errorf("node: %w", e)
		}
	}()
	rep, err := nd.expect(ctx, "ready", time.Minute)
	if err != nil {
		return r, err
	}
	r.before = *rep.Mem
	progress("node at %s, fd limit %d; attaching %d clients", rep.Addr, rep.FDLimit, n)

	cl, err := startChild(ctx, "clients", stderr, "-role", "clients", "-ca", caDir, "-addr", rep.Addr,
		"-count", strconv.Itoa(n), "-users", strconv.Itoa(o.users), "-concurrency", strconv.Itoa(o.concurrency))
	if err != nil {
		return r, err
	}
	clientsUp := true
	defer func() {
		if clientsUp {
			cl.stop(time.Minute)
		}
	}()
	rep, err = cl.expect(ctx, "attached", 10*time.Minute)
	if err != nil {
		return r, err
	}
	r.attachSecs, r.retries = rep.Secs, rep.Retries
	progress("%d attached in %.1f s (%d retries, client fd limit %d); idle for %v", rep.Attached, rep.Secs, rep.Retries, rep.FDLimit, o.settle)

	select {
	case <-time.After(o.settle):
	case <-ctx.Done():
		return r, ctx.Err()
	}
	if err := nd.send("measure", "attached"); err != nil {
		return r, err
	}
	if rep, err = nd.expect(ctx, "mem", time.Minute); err != nil {
		return r, err
	}
	r.attached = *rep.Mem
	if err := cl.send("status"); err != nil {
		return r, err
	}
	if rep, err = cl.expect(ctx, "status", time.Minute); err != nil {
		return r, err
	}
	r.pings, r.pingErrs, r.lost = rep.Pings, rep.PingErrors, rep.Lost
	if err := profile(ctx, o, nd, "attached", n, progress); err != nil {
		return r, err
	}

	clientsUp = false
	if err := cl.stop(time.Minute); err != nil {
		return r, fmt.Errorf("clients: %w", err)
	}
	// The node sees the links close (close_notify) and drops the
	// attachments; give it a moment.
	time.Sleep(2 * time.Second)
	if err := nd.send("measure", "after"); err != nil {
		return r, err
	}
	if rep, err = nd.expect(ctx, "mem", time.Minute); err != nil {
		return r, err
	}
	r.after = *rep.Mem
	return r, profile(ctx, o, nd, "after", n, progress)
}

// profile has the node write its heap profile to o.profile, if set, as
// LABEL-N.pprof.
func profile(ctx context.Context, o coordOptions, nd *child, label string, n int, progress func(string, ...any)) error {
	if o.profile == "" {
		return nil
	}
	path, err := filepath.Abs(filepath.Join(o.profile, fmt.Sprintf("%s-%d.pprof", label, n)))
	if err != nil {
		return err
	}
	if err := nd.send("profile", path); err != nil {
		return err
	}
	if _, err := nd.expect(ctx, "profiled", time.Minute); err != nil {
		return err
	}
	progress("heap profile in %s", path)
	return nil
}

func printResults(w io.Writer, results []result) {
	fmt.Fprintln(w, "\nPer idle attached client, node process only: (attached − before) / N")
	t := texttable.New(w, "N", "attached", "lost", "ping errs", "goroutines/client", "heap KiB", "stack KiB", "heap+stack KiB", "Sys KiB", "VmRSS KiB", "objects", "attach s", "retries")
	for _, r := range results {
		per := func(a, b uint64) string { return fmt.Sprintf("%.2f", (float64(a)-float64(b))/float64(r.n)/1024) }
		t.Row(strconv.Itoa(r.n), strconv.Itoa(r.attached.Clients), strconv.FormatInt(r.lost, 10), strconv.FormatInt(r.pingErrs, 10),
			fmt.Sprintf("%.2f", float64(r.attached.Goroutines-r.before.Goroutines)/float64(r.n)),
			per(r.attached.HeapInuse, r.before.HeapInuse), per(r.attached.StackInuse, r.before.StackInuse),
			per(r.attached.HeapInuse+r.attached.StackInuse, r.before.HeapInuse+r.before.StackInuse),
			per(r.attached.Sys, r.before.Sys), per(r.attached.RSS, r.before.RSS),
			fmt.Sprintf("%.1f", (float64(r.attached.Objects)-float64(r.before.Objects))/float64(r.n)),
			fmt.Sprintf("%.1f", r.attachSecs), strconv.Itoa(r.retries))
	}
	t.Flush()

	fmt.Fprintln(w, "\nNode process, absolute (MiB): before any client, with N attached and idle, after they left")
	t = texttable.New(w, "N", "sample", "clients", "fds", "goroutines", "heap in use", "heap alloc", "stack in use", "Sys", "VmRSS")
	for _, r := range results {
		for _, m := range []memSample{r.before, r.attached, r.after} {
			t.Row(strconv.Itoa(r.n), m.Label, strconv.Itoa(m.Clients), strconv.Itoa(m.FDs), strconv.Itoa(m.Goroutines),
				mib(m.HeapInuse), mib(m.HeapAlloc), mib(m.StackInuse), mib(m.Sys), mib(m.RSS))
		}
	}
	t.Flush()
}

func mib(v uint64) string { return fmt.Sprintf("%.1f", float64(v)/(1<<20)) }
