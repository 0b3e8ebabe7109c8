package api

import (
	"time"
)

// Paths of the API.
const (
	PathRegister = "/v1/register"
	PathLogin    = "/v1/login"
	PathHealth   = "/v1/health"
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
