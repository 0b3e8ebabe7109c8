// Command soitto-login is the login server of a Soitto network: accounts,
// unique usernames, and the certificate authority.
//
//	soitto-login init  --dir DIR [--listen HOST:PORT] [--bootstrap HOST:PORT,...]
//	soitto-login serve --dir DIR [--db sqlite:PATH | --db postgres://...] [--listen HOST:PORT] [--metrics HOST:PORT]
//	soitto-login node-cert --dir DIR --addr HOST:PORT --out NODEDIR
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"soitto/bootstrap"
	"soitto/internal/metricsrv"
	"soitto/login/ca"
	"soitto/login/server"
	"soitto/login/setup"
	"soitto/login/store"
)

const usage = `soitto-login is the login server of a Soitto network.

Usage:
  soitto-login init  --dir DIR [--listen HOST:PORT] [--bootstrap HOST:PORT,...] [--name NAME]
      Create the CA key, the server's TLS key and certificate, and
      DIR/network.json, the network file clients and super-peers read.
      Key files are 0600 and never overwritten.
  soitto-login serve --dir DIR [--db sqlite:PATH | --db postgres://...] [--listen HOST:PORT] [--metrics HOST:PORT]
      Serve the HTTPS JSON API (register, login, health).
  soitto-login node-cert --dir DIR --addr HOST:PORT --out NODEDIR
      Issue a certificate and key for a dedicated super-peer whose public
      address is HOST:PORT, into NODEDIR (node.key 0600, node.crt, ca.crt).

Run "soitto-login COMMAND --help" for a command's flags and defaults.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "init":
		err = runInit(os.Args[2:], os.Stdout)
	case "serve":
		err = runServe(os.Args[2:])
	case "node-cert":
		err = runNodeCert(os.Args[2:], os.Stdout)
	case "-h", "--help", "help":
		fmt.Print(usage)
		return
	default:
		err = fmt.Errorf("unknown command %q (want init, serve or node-cert)", os.Args[1])
	}
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "soitto-login: %v\n", err)
		os.Exit(1)
	}
}

func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("soitto-login "+name, flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	return fs
}

func runInit(args []string, out io.Writer) error {
	fs := newFlagSet("init")
	dir := fs.String("dir", "", "the server's folder (required); created if missing")
	listen := fs.String("listen", setup.DefaultListen, "HOST:PORT clients reach the server at; goes into the login URL and the TLS certificate")
	boot := fs.String("bootstrap", "", "comma-separated HOST:PORT list of bootstrap super-peers for the network file")
	name := fs.String("name", "soitto", "the network's name")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("init: --dir is required")
	}
	var bs []string
	for _, b := range strings.Split(*boot, ",") {
		if b = strings.TrimSpace(b); b != "" {
			bs = append(bs, b)
		}
	}
	n, err := setup.Init(*dir, setup.InitOptions{Listen: *listen, Bootstrap: bs, Name: *name})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "created %s\nlogin URL %s\nTLS pin   %s\n", filepath.Join(*dir, setup.NetworkFile), n.LoginURL, n.LoginPin)
	return nil
}

func runNodeCert(args []string, out io.Writer) error {
	fs := newFlagSet("node-cert")
	dir := fs.String("dir", "", "the login server's folder, made by init (required)")
	addr := fs.String("addr", "", "the node's public HOST:PORT, which its ring ID is derived from (required)")
	outDir := fs.String("out", "", "folder for the node's key and certificate (required); created if missing")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" || *addr == "" || *outDir == "" {
		return errors.New("node-cert: --dir, --addr and --out are required")
	}
	if err := bootstrap.CheckHostPort(*addr); err != nil {
		return fmt.Errorf("node-cert: --addr %q: %v", *addr, err)
	}
	authority, err := ca.Load(*dir)
	if err != nil {
		return err
	}
	cert, err := authority.CreateNodeKey(*outDir, *addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "issued %s for node %s, valid until %s\n", filepath.Join(*outDir, ca.NodeCertFile), *addr, cert.NotAfter.UTC().Format(time.RFC3339))
	return nil
}

func runServe(args []string) error {
	fs := newFlagSet("serve")
	dir := fs.String("dir", "", "the server's folder, made by init (required)")
	db := fs.String("db", "", "account store: sqlite:PATH or postgres://… (default sqlite:DIR/accounts.db)")
	listen := fs.String("listen", "", "HOST:PORT to listen on (default: the host and port of the network file's login URL)")
	metrics := fs.String("metrics", "", "HOST:PORT to serve Prometheus metrics on at /metrics (default: off)")
	debug := fs.Bool("debug", false, "log every refusal")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("serve: --dir is required")
	}
	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	d, err := setup.Open(*dir)
	if err != nil {
		return err
	}
	if *db == "" {
		*db = "sqlite:" + filepath.Join(*dir, "accounts.db")
	}
	if *listen == "" {
		*listen = d.ListenAddr()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	st, err := store.Open(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	srv, err := server.New(server.Config{Store: st, CA: d.CA, Logger: log})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	if *metrics != "" {
		stopMetrics, bound, err := metricsrv.Start(*metrics, srv.MetricsHandler())
		if err != nil {
			ln.Close()
			return err
		}
		defer stopMetrics()
		log.Info("metrics", "addr", bound)
	}
	log.Info("serving", "addr", ln.Addr().String(), "login_url", d.Network.LoginURL, "db", redact(*db))
	err = srv.Serve(ctx, ln, d.TLS)
	log.Info("stopped")
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// redact hides a password in a database URL before it is logged.
func redact(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		if j := strings.Index(dsn[i+3:], "@"); j >= 0 {
			return dsn[:i+3] + "…@" + dsn[i+3+j+1:]
		}
	}
	return dsn
}
