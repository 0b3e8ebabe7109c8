// Package client speaks the login API for a Soitto client: register an
// account, and log in to get a certificate for the client's key. It trusts
// the login server only if its certificate chains to the network's CA and
// matches the network file's pin.
package client

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"soitto/bootstrap"
	"soitto/login/api"
	"soitto/login/ca"
)

// ErrPinMismatch is returned when the login server's key is not the one the
// network file pins.
var ErrPinMismatch = errors.New("login server's key does not match the network file's pin")

// maxResponse bounds what the client reads from the server.
const maxResponse = 256 << 10

// Client talks to one network's login server.
type Client struct {
	net *bootstrap.Network
	hc  *http.Client
	now func() time.Time
}

// New returns a client for the login server of n.
func New(n *bootstrap.Network) *Client {
	tlsConf := &tls.Config{
		MinVersion: tls.VersionTLS13,
		RootCAs:    n.CAPool(),
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || bootstrap.Pin(cs.PeerCertificates[0]) != n.LoginPin {
				return ErrPinMismatch
			}
			return nil
		},
	}
	tr := &http.Transport{
		TLSClientConfig:     tlsConf,
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
		ForceAttemptHTTP2:   true,
	}
	return &Client{net: n, hc: &http.Client{Transport: tr, Timeout: 60 * time.Second}, now: time.Now}
}

// Close releases idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// Health checks that the server answers.
func (c *Client) Health(ctx context.Context) error {
	var resp api.HealthResponse
	return c.do(ctx, http.MethodGet, api.PathHealth, nil, &resp)
}

// Register creates an account and returns the normalized username.
func (c *Client) Register(ctx context.Context, user, password string) (string, error) {
	var resp api.RegisterResponse
	if err := c.do(ctx, http.MethodPost, api.PathRegister, api.RegisterRequest{Username: user, Password: password}, &resp); err != nil {
		return "", err
	}
	return resp.Username, nil
}

// Login asks for a certificate binding user to pub and checks it: it must
// chain to the network's CA, name the normalized user, and hold pub.
func (c *Client) Login(ctx context.Context, user, password string, pub crypto.PublicKey) (*x509.Certificate, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	var resp api.LoginResponse
	if err := c.do(ctx, http.MethodPost, api.PathLogin, api.LoginRequest{Username: user, Password: password, PublicKey: der}, &resp); err != nil {
		return nil, err
	}
	cert, err := bootstrap.ParseCertificatePEM([]byte(resp.Certificate))
	if err != nil {
		return nil, fmt.Errorf("login server sent a bad certificate: %w", err)
	}
	if _, err := ca.VerifyUser(c.net.CAPool(), cert, c.now(), resp.Username); err != nil {
		return nil, fmt.Errorf("login server sent a bad certificate: %w", err)
	}
	if k, ok := pub.(interface{ Equal(crypto.PublicKey) bool }); !ok || !k.Equal(cert.PublicKey) {
		return nil, errors.New("login server sent a certificate for another key")
	}
	return cert, nil
}

func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.net.LoginURL, "/")+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("login server %s: %w", c.net.LoginURL, unwrapURLError(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return fmt.Errorf("login server %s: %w", c.net.LoginURL, err)
	}
	if len(data) > maxResponse {
		return fmt.Errorf("login server %s: response larger than %d bytes", c.net.LoginURL, maxResponse)
	}
	if resp.StatusCode >= 300 {
		var er api.ErrorResponse
		if err := json.Unmarshal(data, &er); err != nil || er.Error.Code == "" {
			return fmt.Errorf("login server %s: HTTP %d", c.net.LoginURL, resp.StatusCode)
		}
		e := &api.Error{Code: er.Error.Code, Message: er.Error.Message, Status: resp.StatusCode}
		e.RetryAfter, _ = strconv.Atoi(resp.Header.Get("Retry-After"))
		return e
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("login server %s: malformed response: %w", c.net.LoginURL, err)
	}
	return nil
}

// unwrapURLError drops net/url's "Post \"https://...\":" prefix, which
// repeats what the caller's message already says.
func unwrapURLError(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}

// NodeCert asks for a super-peer certificate for addr and nodeKey, as a
// client being promoted: userCert and userKey prove who asks. The server
// connects to addr first, so something must listen there.
func (c *Client) NodeCert(ctx context.Context, userCert *x509.Certificate, userKey *ecdsa.PrivateKey, addr string, nodeKey crypto.PublicKey) (*x509.Certificate, error) {
	der, err := x509.MarshalPKIXPublicKey(nodeKey)
	if err != nil {
		return nil, err
	}
	now := c.now().Unix()
	digest := sha256.Sum256(api.NodeCertSigned(addr, der, now))
	sig, err := ecdsa.SignASN1(rand.Reader, userKey, digest[:])
	if err != nil {
		return nil, err
	}
	var resp api.NodeCertResponse
	if err := c.do(ctx, http.MethodPost, api.PathNodeCert, api.NodeCertRequest{
		Certificate: string(ca.PEM(userCert)), Addr: addr, PublicKey: der, Time: now, Signature: sig,
	}, &resp); err != nil {
		return nil, err
	}
	cert, err := bootstrap.ParseCertificatePEM([]byte(resp.Certificate))
	if err != nil {
		return nil, fmt.Errorf("login server sent a bad node certificate: %w", err)
	}
	if _, err := ca.VerifyNode(c.net.CAPool(), cert, c.now(), addr); err != nil {
		return nil, fmt.Errorf("login server sent a bad node certificate: %w", err)
	}
	if k, ok := nodeKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !k.Equal(cert.PublicKey) {
		return nil, errors.New("login server sent a node certificate for another key")
	}
	return cert, nil
}
