// Command soitto-node is a dedicated super-peer: a member of the Chord ring
// that holds the user directory, a STUN server and a TURN relay.
//
//	soitto-node --network FILE --listen HOST:PORT --data NODEDIR [--advertise HOST:PORT] [--metrics HOST:PORT]
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"soitto/bootstrap"
	"soitto/internal/metricsrv"
	"soitto/login/ca"
	"soitto/overlay/dir"
	"soitto/overlay/node"
	"soitto/overlay/ring"
)

const usage = `soitto-node is a dedicated Soitto super-peer: a member of the Chord ring
that holds the user directory, a STUN server and a TURN relay for the
clients attached to it.

Usage:
  soitto-node --network FILE --listen HOST:PORT --data NODEDIR [flags]

NODEDIR holds node.key and node.crt, made by
  soitto-login node-cert --dir LOGINDIR --addr HOST:PORT --out NODEDIR
for the node's public address (--advertise, which defaults to --listen).
Ports: --listen's port P is the overlay (TCP) and STUN (UDP); P+1 (UDP) is
STUN's alternate port; P+2 (UDP and TCP) is TURN, relaying on --turn-ports.
SIGTERM or Ctrl-C leaves the ring gracefully: records go to the successor
and the neighbours are told.

Flags:
`

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("soitto-node", flag.ContinueOnError)
	fs.SetOutput(stderr)
	network := fs.String("network", "", "network file (required)")
	listen := fs.String("listen", "", "HOST:PORT to listen on (required)")
	data := fs.String("data", "", "folder with node.key and node.crt (required)")
	advertise := fs.String("advertise", "", "public HOST:PORT other nodes reach this one at; its ring ID is SHA-1 of it (default: --listen)")
	metrics := fs.String("metrics", "", "HOST:PORT to serve Prometheus metrics on at /metrics (default: off)")
	succ := fs.Int("successors", ring.DefaultSuccessors, "successor list length")
	replicas := fs.Int("replicas", dir.DefaultReplicas, "copies of each record besides the primary")
	stab := fs.Duration("stabilize", time.Second, "stabilize period")
	fix := fs.Duration("fix-fingers", 500*time.Millisecond, "fix-fingers period")
	check := fs.Duration("check-predecessor", 2*time.Second, "check-predecessor period")
	maxClients := fs.Int("max-clients", node.DefaultMaxClients, "client endpoints attached at once; more are redirected to other super-peers")
	keepAlive := fs.Duration("keepalive", node.DefaultKeepAlive, "how often attached clients ping")
	natf := addNATFlags(fs)
	debug := fs.Bool("debug", false, "log debug detail")
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *network == "" || *listen == "" || *data == "" {
		fmt.Fprintln(stderr, "soitto-node: --network, --listen and --data are required; see --help")
		return 2
	}
	if *advertise == "" {
		*advertise = *listen
	}
	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if err := serve(log, *network, *listen, *data, *advertise, *metrics, natf, node.Config{
		Ring:       ring.Config{Successors: *succ, Stabilize: *stab, FixFingers: *fix, CheckPredecessor: *check},
		Replicas:   *replicas,
		MaxClients: *maxClients,
		KeepAlive:  *keepAlive,
	}); err != nil {
		fmt.Fprintf(stderr, "soitto-node: %v\n", err)
		return 1
	}
	return 0
}

func serve(log *slog.Logger, networkFile, listen, data, advertise, metricsAddr string, natf *natFlags, cfg node.Config) error {
	n, err := bootstrap.Load(networkFile)
	if err != nil {
		return err
	}
	cert, err := tls.LoadX509KeyPair(filepath.Join(data, ca.NodeCertFile), filepath.Join(data, ca.NodeKeyFile))
	if err != nil {
		return fmt.Errorf("%w (make them with soitto-login node-cert)", err)
	}
	cfg.Network, cfg.Certificate, cfg.Advertise, cfg.Logger = n, cert, advertise, log
	services, stopNAT, err := natf.start(log, listen, advertise, n.TURN)
	if err != nil {
		return err
	}
	defer stopNAT()
	cfg.NAT = services
	nd, err := node.New(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	if metricsAddr != "" {
		stopMetrics, bound, err := metricsrv.Start(metricsAddr, nd.MetricsHandler())
		if err != nil {
			ln.Close()
			return err
		}
		defer stopMetrics()
		log.Info("metrics", "addr", bound)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Info("node starting", "listen", ln.Addr().String(), "advertise", advertise, "id", nd.Self().ID.Hex())
	return nd.Run(ctx, ln)
}
