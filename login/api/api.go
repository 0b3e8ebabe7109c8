package api

import (
	"fmt"
	"time"
)

// Paths of the API.
const (
	PathRegister = "/v1/register"
	PathLogin    = "/v1/login"
	PathHealth   = "/v1/health"
	PathNodeCert = "/v1/node-cert"
)

// MaxBody is the largest request body the server reads.
const MaxBody = 64 << 10

// RegisterRequest creates an account.
type RegisterRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// RegisterResponse answers a successful registration.
type RegisterResponse struct {
	// Username is the normalized name the account was stored under.
	Username string `json:"username"`
}

// LoginRequest asks for a certificate for PublicKey.
type LoginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	// PublicKey is a DER SubjectPublicKeyInfo (ECDSA P-256); base64 in JSON.
	PublicKey []byte `json:"public_key"`
}

// LoginResponse carries the user's new certificate.
type LoginResponse struct {
	Username    string    `json:"username"`
	Certificate string    `json:"certificate"`
	NotAfter    time.Time `json:"not_after"`
}

// HealthResponse answers GET /v1/health.
type HealthResponse struct {
	Status string `json:"status"`
}

// ErrorResponse is the body of every refusal.
type ErrorResponse struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody is a code and a one-line message.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// NodeCertRequest asks for a super-peer certificate for a promoted
// client: the user proves who they are with their current certificate
// and a signature by its key over NodeCertSigned(Addr, PublicKey, Time).
type NodeCertRequest struct {
	// Certificate is the user's certificate, PEM.
	Certificate string `json:"certificate"`
	// Addr is the "ip:port" the client serves the overlay on: its IP
	// must be the one the request comes from, and the server connects
	// to it (the inbound test) before it signs.
	Addr string `json:"addr"`
	// PublicKey is the node key, a DER SubjectPublicKeyInfo (ECDSA P-256).
	PublicKey []byte `json:"public_key"`
	// Time is the Unix time of the signature (within 2 minutes).
	Time int64 `json:"time"`
	// Signature is an ASN.1 ECDSA signature by the user's key.
	Signature []byte `json:"signature"`
}

// NodeCertSigned is what a NodeCertRequest's signature covers.
func NodeCertSigned(addr string, pub []byte, unix int64) []byte {
	b := []byte("soitto-node-cert-v1\x00" + addr + "\x00")
	b = append(b, pub...)
	return append(b, fmt.Sprintf("\x00%d", unix)...)
}

// NodeCertResponse carries the node certificate.
type NodeCertResponse struct {
	Certificate string    `json:"certificate"`
	NotAfter    time.Time `json:"not_after"`
}
