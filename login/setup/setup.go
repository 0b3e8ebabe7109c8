// Package setup creates and opens a login server's folder: the CA, the
// server's TLS key and certificate, and the network file that clients and
// super-peers read. Init never overwrites a key.
package setup

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"

	"soitto/bootstrap"
	"soitto/login/ca"
)

// NetworkFile is the name of the network file inside the server's folder.
const NetworkFile = "network.json"

// DefaultListen is where soitto-login listens when nothing else is said.
const DefaultListen = "127.0.0.1:7443"

// InitOptions are the choices of soitto-login init.
type InitOptions struct {
	// Listen is the HOST:PORT clients reach the server at; it goes into the
	// network file's login URL and the TLS certificate. If empty,
	// DefaultListen. A wildcard host (0.0.0.0, ::) names the machine's
	// hostname, loopback and the addresses of its interfaces.
	Listen string
	// Bootstrap lists super-peer addresses for the network file.
	Bootstrap []string
	// Name is the network's name; if empty, "soitto".
	Name string
}

// Init creates dir's CA key and certificate, the server's TLS key and
// certificate, and dir/network.json. Key files are 0600; if any of them
// already exists Init refuses and changes nothing.
func Init(dir string, opt InitOptions) (*bootstrap.Network, error) {
	if opt.Listen == "" {
		opt.Listen = DefaultListen
	}
	if opt.Name == "" {
		opt.Name = "soitto"
	}
	if err := bootstrap.CheckHostPort(opt.Listen); err != nil {
		return nil, fmt.Errorf("--listen %q: %v", opt.Listen, err)
	}
	for _, b := range opt.Bootstrap {
		if err := bootstrap.CheckHostPort(b); err != nil {
			return nil, fmt.Errorf("--bootstrap %q: %v", b, err)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	for _, f := range []string{ca.CAKeyFile, ca.CACertFile, ca.ServerKeyFile, ca.ServerCertFile} {
		if _, err := os.Lstat(filepath.Join(dir, f)); err == nil {
			return nil, fmt.Errorf("%s already exists; not overwriting keys (use another --dir)", filepath.Join(dir, f))
		}
	}
	authority, err := ca.Create(dir, opt.Name)
	if err != nil {
		return nil, err
	}
	host, _, _ := net.SplitHostPort(opt.Listen)
	srv, err := authority.CreateServerKey(dir, certHosts(host))
	if err != nil {
		return nil, err
	}
	loginURL := (&url.URL{Scheme: "https", Host: urlHost(opt.Listen)}).String()
	n, err := bootstrap.New(opt.Name, loginURL, authority.Cert, srv, opt.Bootstrap)
	if err != nil {
		return nil, err
	}
	return n, n.Save(filepath.Join(dir, NetworkFile))
}

// Dir is an opened login server folder.
type Dir struct {
	CA      *ca.CA
	TLS     tls.Certificate
	Network *bootstrap.Network
}

// Open loads what Init created.
func Open(dir string) (*Dir, error) {
	authority, err := ca.Load(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s has no CA: run soitto-login init --dir %s first", dir, dir)
		}
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, ca.ServerCertFile), filepath.Join(dir, ca.ServerKeyFile))
	if err != nil {
		return nil, err
	}
	n, err := bootstrap.Load(filepath.Join(dir, NetworkFile))
	if err != nil {
		return nil, err
	}
	return &Dir{CA: authority, TLS: cert, Network: n}, nil
}

// ListenAddr is the HOST:PORT of the network file's login URL.
func (d *Dir) ListenAddr() string {
	u, err := url.Parse(d.Network.LoginURL)
	if err != nil {
		return DefaultListen
	}
	if u.Port() == "" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return u.Host
}

func certHosts(host string) []string {
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsUnspecified() {
		return []string{host}
	}
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if h, err := os.Hostname(); err == nil {
		hosts = append(hosts, h)
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() {
				hosts = append(hosts, ipn.IP.String())
			}
		}
	}
	return hosts
}

// urlHost turns a wildcard listen address into one a client can dial.
func urlHost(listen string) string {
	host, port, _ := net.SplitHostPort(listen)
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		if h, err := os.Hostname(); err == nil {
			host = h
		} else {
			host = "127.0.0.1"
		}
	}
	return net.JoinHostPort(host, port)
}
