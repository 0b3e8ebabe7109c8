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
	// ErrNotNodeCert is returned when a certificate is not a node
	// certificate of this CA.
	ErrNotNodeCert = errors.New("not a node certificate of this network")
	// ErrWrongNode is returned when a node certificate names another
	// address.
	ErrWrongNode = errors.New("node certificate names another address")
	// ErrExpired is returned for a certificate outside its validity period.
	ErrExpired = errors.New("certificate expired or not yet valid")
)
