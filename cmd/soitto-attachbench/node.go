package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"soitto/bootstrap"
	"soitto/login/ca"
	"soitto/overlay/node"
)

type nodeOptions struct {
	caDir      string
	maxClients int
	keepAlive  time.Duration
}

// runNode is the node process: one node.Node on 127.0.0.1, alone in its
// ring, measured on command.
func runNode(ctx context.Context, o nodeOptions, stdin io.Reader, stdout io.Writer) error {
	out := newEmitter(stdout)
	authority, err := ca.Load(o.caDir)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	key, err := ca.GenerateKey()
	if err != nil {
		return err
	}
	cert, err := authority.IssueNode(addr, &key.PublicKey)
	if err != nil {
		return err
	}
	network, err := bootstrap.New("attachbench", "https://127.0.0.1:1/", authority.Cert, authority.Cert, []string{addr})
	if err != nil {
		return err
	}
	nd, err := node.New(node.Config{
		Network:     network,
		Certificate: tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key},
		Advertise:   addr,
		MaxClients:  o.maxClients,
		KeepAlive:   o.keepAlive,
		Logger:      slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- nd.Run(runCtx, ln) }()
	defer func() {
		stop()
		<-done
		out.emit(report{Event: "bye"})
	}()
	// A ring of one: Run creates it at once, there being no other
	// bootstrap node. Let its maintenance run a round before measuring.
	for len(nd.Ring().Successors()) == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	cmds := commands(stdin) // its goroutine is in every sample
	before := measure("before", nd.Clients(), openFDs())
	out.emit(report{Event: "ready", Addr: addr, Mem: &before, FDLimit: fdLimit()})

	for {
		var cmd []string
		select {
		case <-ctx.Done():
			return nil
		case c, ok := <-cmds:
			if !ok {
				return nil
			}
			cmd = c
		}
		switch cmd[0] {
		case "measure":
			label := "sample"
			if len(cmd) > 1 {
				label = cmd[1]
			}
			m := measure(label, nd.Clients(), openFDs())
			out.emit(report{Event: "mem", Mem: &m})
		case "profile":
			if len(cmd) < 2 {
				out.emit(report{Event: "profiled", Err: "profile: no path"})
				continue
			}
			out.emit(report{Event: "profiled", Err: writeHeapProfile(cmd[1])})
		case "quit":
			return nil
		default:
			out.emit(report{Event: "error", Err: fmt.Sprintf("unknown command %q", cmd[0])})
		}
	}
}

// writeHeapProfile writes the heap profile as of the last collection to
// path, and the goroutines with their stacks as text beside it.
func writeHeapProfile(path string) string {
	if err := writeProfile("heap", path, 0); err != nil {
		return err.Error()
	}
	if err := writeProfile("goroutine", strings.TrimSuffix(path, ".pprof")+".goroutines.txt", 1); err != nil {
		return err.Error()
	}
	return ""
}

func writeProfile(name, path string, debug int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup(name).WriteTo(f, debug); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
