// Command soitto-attachbench measures what idle attached clients cost a
// super-peer: memory per client with N clients attached to one node. It
// exists because a super-peer's capacity (node.Config.MaxClients) is
// bounded by memory, and crypto/tls keeps state for every connection.
//
// Method. The command runs itself three times over: the coordinator
// (this command, no -role) makes a CA in a temporary folder and, for each
// N, starts a node process (-role node: one node.Node on 127.0.0.1 that
// forms a ring of one) and a clients process (-role clients: N bare
// tlsnet.Net clients, one link each, as overlay/peer would make, that
// attach and then ping at the keepalive the node names). Clients are
// spread over -users distinct user certificates so that the node's
// per-certificate request rate (tlsnet.DefaultPeerRate) is never reached;
// no limit is changed. Only the node process is measured, so the clients'
// own memory never enters the figures.
//
// The node reports runtime.MemStats and its goroutine count after four
// forced collections (each may halve a goroutine stack that uses under a
// quarter of it) and debug.FreeOSMemory, and VmRSS from /proc/self/status:
// once idle before any client, once after every client attached and
// stayed idle for -settle (at least one ping each), and once after the
// clients left. Per client is (attached − before) / N.
//
// Usage:
//
//	go run ./cmd/soitto-attachbench [-n 1000,10000] [-users 100]
//	    [-keepalive 15s] [-settle 20s] [-concurrency 64] [-profile DIR]
//
// -profile writes heap profiles (every allocation sampled) of the node
// with its clients attached and after they left, for go tool pprof -top,
// and its goroutines as text beside them; sampling costs
// memory of its own, so the tables of a profiled run are not the ones to
// quote. The defaults take about a minute and a half on two cores.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("soitto-attachbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	role := fs.String("role", "", "internal: node or clients (a child process)")
	ns := fs.String("n", "1000,10000", "numbers of attached clients, one node process per number")
	users := fs.Int("users", 100, "distinct user certificates the clients share")
	keepAlive := fs.Duration("keepalive", 15*time.Second, "the node's KeepAlive: how often attached clients ping")
	settle := fs.Duration("settle", 20*time.Second, "how long clients stay idle (pinging) before the node is measured")
	conc := fs.Int("concurrency", 64, "attaches in flight at once while the clients attach")
	profile := fs.String("profile", "", "folder to write the node's heap profiles to (attached-N.pprof, after-N.pprof) and its goroutines (.goroutines.txt); samples every allocation")
	timeout := fs.Duration("timeout", 15*time.Minute, "give up after this long")
	// Child flags.
	caDir := fs.String("ca", "", "internal: CA folder")
	addr := fs.String("addr", "", "internal: the node's address (clients)")
	count := fs.Int("count", 0, "internal: clients to attach (clients) or MaxClients (node)")
	memRate := fs.Int("memprofilerate", 0, "internal: runtime.MemProfileRate of the node")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	raiseFDLimit(stderr)

	var err error
	switch *role {
	case "node":
		if *memRate > 0 {
			runtime.MemProfileRate = *memRate
		}
		err = runNode(ctx, nodeOptions{caDir: *caDir, maxClients: *count, keepAlive: *keepAlive}, stdin, stdout)
	case "clients":
		err = runClients(ctx, clientOptions{caDir: *caDir, addr: *addr, n: *count, users: *users, concurrency: *conc}, stdin, stdout)
	case "":
		o := coordOptions{users: *users, keepAlive: *keepAlive, settle: *settle, concurrency: *conc, profile: *profile}
		if o.ns, err = intList(*ns); err != nil {
			fmt.Fprintln(stderr, "soitto-attachbench: -n:", err)
			return 2
		}
		if o.users < 1 || o.concurrency < 1 || len(o.ns) == 0 {
			fmt.Fprintln(stderr, "soitto-attachbench: -n, -users and -concurrency must be positive")
			return 2
		}
		ctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		err = coordinate(ctx, o, stdout, stderr)
	default:
		err = fmt.Errorf("unknown role %q", *role)
	}
	if err != nil {
		fmt.Fprintf(stderr, "soitto-attachbench%s: %v\n", roleSuffix(*role), err)
		return 1
	}
	return 0
}

func roleSuffix(role string) string {
	if role == "" {
		return ""
	}
	return " (" + role + ")"
}

func intList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil {
			return nil, err
		}
		if v < 1 {
			return nil, fmt.Errorf("%d: must be positive", v)
		}
		out = append(out, v)
	}
	return out, nil
}
