package ca

import "errors"

var (
	// ErrKeyType is returned for a public key that is not ECDSA P-256.
	ErrKeyType = errors.New("public key must be ECDSA P-256")
	// ErrNotUserCert is returned when a certificate is not a user
	// certificate of this CA.
	ErrNotUserCert = errors.New("not a user certificate of this network")
	// ErrWrongUser is returned when a certificate names another user.
	ErrWrongUser = errors.New("certificate names another user")
	// ErrExpired is returned for a certificate outside its validity period.
	ErrExpired = errors.New("certificate expired or not yet valid")
)
