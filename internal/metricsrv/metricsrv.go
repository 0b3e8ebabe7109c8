// Package metricsrv serves a Prometheus handler at /metrics on its own
// listener, the way every Soitto server exposes its --metrics flag.
package metricsrv

import (
	"net"
	"net/http"
	"time"
)

// Start listens on addr and serves h at /metrics until the returned
// function is called.
func Start(addr string, h http.Handler) (stop func(), bound string, err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return func() { srv.Close() }, ln.Addr().String(), nil
}
