// Package profile keeps one user's identity on disk: the key pair made on
// this machine (its private key encrypted under a key derived from the
// password), the current certificate, and the network file in use. The
// server never sees the private key.
//
// A profile folder holds:
//
//	profile.json   {"version":1,"username":"alice","created":"…"}
//	identity.key   the encrypted identity key (see keyfile.go), mode 0600
//	cert.pem       the latest certificate from the login server
//	network.json   the network file this profile belongs to
//
// Every file is written to a temporary name, synced and renamed.
package profile
