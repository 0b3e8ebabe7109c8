// Package ca is the network's certificate authority: it creates the CA key,
// issues the login server's TLS certificate and the 24-hour user
// certificates that bind a username to a client's key, and verifies them.
// It is the one trust root of a Soitto network (DESIGN.md, "Identity and
// trust"): every super-peer link, every call's DTLS handshake and every
// signed record is checked against it.
//
// Keys are ECDSA P-256 throughout, because pion's DTLS accepts them for
// WebRTC and they are small.
//
// A user certificate has the normalized username as its subject common name
// and as a URI SAN "soitto:user:NAME" (NAME percent-encoded), key usage
// digital signature, and extended key usage client and server auth (a peer
// can be either side of a DTLS handshake).
package ca
