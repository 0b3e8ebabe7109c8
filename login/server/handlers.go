package server

import (
	"crypto/x509"
	"errors"
	"net/http"
	"time"

	"soitto/login/api"
	"soitto/login/ca"
	"soitto/login/password"
	"soitto/login/store"
	"soitto/login/username"
)

func (s *Server) health(w http.ResponseWriter, r *http.Request) (any, error) {
	return api.HealthResponse{Status: "ok"}, nil
}

func readBody(w http.ResponseWriter, r *http.Request) error {
	if err := api.CheckContentType(r.Header.Get("Content-Type")); err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, api.MaxBody)
	return nil
}

func (s *Server) register(w http.ResponseWriter, r *http.Request) (resp any, err error) {
	defer func() { s.metrics.registrations.WithLabelValues(result(err)).Inc() }()
	if err := readBody(w, r); err != nil {
		return nil, err
	}
	req, err := api.DecodeRegister(r.Body)
	if err != nil {
		return nil, err
	}
	name, err := username.Normalize(req.Username)
	if err != nil {
		return nil, api.Refuse(api.CodeInvalidUsername, "%v", err)
	}
	if err := password.Validate(req.Password); err != nil {
		return nil, api.Refuse(api.CodeInvalidPassword, "%v", err)
	}
	if ok, retry := s.allowIP(s.regIP, r); !ok {
		e := api.Refuse(api.CodeRegistrationsCap, "too many registrations from your address; retry in %s", roundUp(retry))
		e.RetryAfter = seconds(retry)
		return nil, e
	}
	ctx := r.Context()
	// A cheap check first, so a taken name costs no hash; the store's unique
	// constraints decide in the end.
	if _, err := s.cfg.Store.GetAccount(ctx, name); err == nil {
		return nil, taken(req.Username, name)
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	hash, err := s.cfg.Hasher.Hash(ctx, req.Password)
	if err != nil {
		return nil, s.hashError(err)
	}
	err = s.cfg.Store.CreateAccount(ctx, store.Account{
		Name:         name,
		Skeleton:     username.Skeleton(name),
		PasswordHash: hash,
		Created:      s.cfg.Now(),
	})
	switch {
	case errors.Is(err, store.ErrNameTaken):
		return nil, taken(req.Username, name)
	case errors.Is(err, store.ErrConfusable):
		return nil, api.Refuse(api.CodeConfusable, "username %q looks too much like an existing one; choose another", req.Username)
	case err != nil:
		return nil, err
	}
	s.log.Info("registered", "user", name)
	return api.RegisterResponse{Username: name}, nil
}

func taken(asked, name string) error {
	if asked != name {
		return api.Refuse(api.CodeUsernameTaken, "username %q is taken (it is the same as %q)", asked, name)
	}
	return api.Refuse(api.CodeUsernameTaken, "username %q is taken", name)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) (resp any, err error) {
	defer func() { s.metrics.logins.WithLabelValues(result(err)).Inc() }()
	if err := readBody(w, r); err != nil {
		return nil, err
	}
	req, err := api.DecodeLogin(r.Body)
	if err != nil {
		return nil, err
	}
	pub, err := x509.ParsePKIXPublicKey(req.PublicKey)
	if err != nil {
		return nil, api.Refuse(api.CodeInvalidKey, "public_key is not a DER SubjectPublicKeyInfo")
	}
	if err := ca.CheckPublicKey(pub); err != nil {
		return nil, api.Refuse(api.CodeInvalidKey, "%v", err)
	}
	ctx := r.Context()
	badCreds := api.Refuse(api.CodeBadCredentials, "wrong username or password")
	name, err := username.Normalize(req.Username)
	if err != nil {
		// No such account can exist; answer as for any unknown user, at the
		// same cost.
		if err := s.cfg.Hasher.VerifyUnknown(ctx, req.Password); err != nil {
			return nil, s.hashError(err)
		}
		return nil, badCreds
	}
	acct, err := s.cfg.Store.GetAccount(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		if err := s.cfg.Hasher.VerifyUnknown(ctx, req.Password); err != nil {
			return nil, s.hashError(err)
		}
		return nil, badCreds
	}
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	if wait := acct.LockedUntil.Sub(now); wait > 0 {
		return nil, locked(wait)
	}
	ok, err := s.cfg.Hasher.Verify(ctx, acct.PasswordHash, req.Password)
	if err != nil {
		return nil, s.hashError(err)
	}
	if !ok {
		acct, err := s.cfg.Store.RecordFailure(ctx, name, func(failures int) time.Time {
			return s.cfg.lockUntil(now, failures)
		})
		if err != nil {
			return nil, err
		}
		if wait := acct.LockedUntil.Sub(now); wait > 0 {
			s.log.Info("account locked", "user", name, "failures", acct.Failures, "for", wait)
		}
		return nil, badCreds
	}
	if acct.Failures > 0 {
		if err := s.cfg.Store.ResetFailures(ctx, name); err != nil {
			return nil, err
		}
	}
	cert, err := s.cfg.CA.IssueUser(name, pub)
	if err != nil {
		return nil, err
	}
	if err := s.cfg.Store.RecordIssued(ctx, store.Issued{
		Serial:    cert.SerialNumber.Text(16),
		Name:      name,
		NotBefore: cert.NotBefore,
		NotAfter:  cert.NotAfter,
		Issued:    now,
	}); err != nil {
		return nil, err
	}
	return api.LoginResponse{
		Username:    name,
		Certificate: string(ca.PEM(cert)),
		NotAfter:    cert.NotAfter.UTC(),
	}, nil
}

func locked(wait time.Duration) error {
	e := api.Refuse(api.CodeAccountLocked, "too many failed logins; account locked, retry in %s", roundUp(wait))
	e.RetryAfter = seconds(wait)
	return e
}

func (s *Server) hashError(err error) error {
	if errors.Is(err, password.ErrBusy) {
		e := api.Refuse(api.CodeBusy, "server busy; retry in a second")
		e.RetryAfter = 1
		return e
	}
	return err
}

// result is the metrics label of a request's outcome.
func result(err error) string {
	if err == nil {
		return "ok"
	}
	code := api.CodeOf(err)
	if code == api.CodeBadCredentials {
		return "failed"
	}
	return code
}
