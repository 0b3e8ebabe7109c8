package server

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"soitto/login/api"
)

// Server answers the login API.
type Server struct {
	cfg     Config
	log     *slog.Logger
	reg     *prometheus.Registry
	metrics *metrics
	perIP   *ipLimiter
	regIP   *ipLimiter
	mux     *http.ServeMux
}

// New checks cfg and returns a Server.
func New(cfg Config) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Server{
		cfg:   cfg,
		log:   cfg.Logger.With("component", "login"),
		reg:   cfg.Registerer,
		perIP: newIPLimiter(cfg.IPRate, cfg.IPBurst, DefaultMaxIPEntries),
		regIP: newIPLimiter(cfg.RegRate, cfg.RegBurst, DefaultMaxIPEntries),
		mux:   http.NewServeMux(),
	}
	s.metrics = newMetrics(cfg.Registerer, cfg.Hasher)
	s.mux.Handle("POST "+api.PathRegister, s.endpoint("register", s.register))
	s.mux.Handle("POST "+api.PathLogin, s.endpoint("login", s.login))
	s.mux.Handle("GET "+api.PathHealth, s.endpoint("health", s.health))
	s.mux.Handle("POST "+api.PathNodeCert, s.endpoint("node-cert", s.nodeCert))
	s.mux.Handle("/", s.endpoint("other", func(w http.ResponseWriter, r *http.Request) (any, error) {
		switch r.URL.Path {
		case api.PathRegister, api.PathLogin, api.PathHealth, api.PathNodeCert:
			return nil, api.Refuse(api.CodeMethod, "%s %s is not allowed", r.Method, r.URL.Path)
		}
		return nil, api.Refuse(api.CodeNotFound, "no endpoint %s", r.URL.Path)
	}))
	return s, nil
}

// Handler returns the API's http.Handler.
func (s *Server) Handler() http.Handler { return s.mux }

// MetricsHandler serves the Prometheus metrics of the registry in Config.
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{})
}

// Serve answers HTTPS on ln with cert until ctx is done, then shuts down,
// letting requests in flight finish for up to 10 s. Serve closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener, cert tls.Certificate) error {
	srv := &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		TLSConfig: &tls.Config{
			MinVersion:   tls.VersionTLS13,
			Certificates: []tls.Certificate{cert},
		},
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ServeTLS(ln, "", "") }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	<-errc
	return err
}

type handlerFunc func(w http.ResponseWriter, r *http.Request) (any, error)

// endpoint wraps a handler: it times it, turns its error into a JSON
// refusal with one line of reason, and never lets a panic reach the client
// as a stack trace.
func (s *Server) endpoint(name string, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.cfg.Now()
		defer func() {
			s.metrics.latency.WithLabelValues(name).Observe(s.cfg.Now().Sub(start).Seconds())
		}()
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("panic", "endpoint", name, "panic", fmt.Sprint(p))
				s.writeError(w, r, api.Refuse(api.CodeInternal, "internal error"))
			}
		}()
		if ok, retry := s.allowIP(s.perIP, r); !ok {
			e := api.Refuse(api.CodeRateLimited, "too many requests from your address; retry in %s", roundUp(retry))
			e.RetryAfter = seconds(retry)
			s.writeError(w, r, e)
			return
		}
		status := http.StatusOK
		if name == "register" {
			status = http.StatusCreated
		}
		resp, err := h(w, r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, status, resp)
	})
}

func (s *Server) allowIP(l *ipLimiter, r *http.Request) (bool, time.Duration) {
	if s.cfg.NoIPLimits {
		return true, 0
	}
	return l.allow(r.RemoteAddr, s.cfg.Now())
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *api.Error
	if !errors.As(err, &e) {
		s.log.Error("request failed", "path", r.URL.Path, "err", err)
		e = api.Refuse(api.CodeInternal, "internal error")
	}
	if e.Status == 0 {
		e.Status = api.StatusOf(e.Code)
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	s.log.Debug("refused", "path", r.URL.Path, "code", e.Code, "msg", e.Message, "remote", r.RemoteAddr)
	writeJSON(w, e.Status, api.ErrorResponse{Error: api.ErrorBody{Code: e.Code, Message: e.Message}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func seconds(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}

func roundUp(d time.Duration) time.Duration {
	return time.Duration(seconds(d)) * time.Second
}
