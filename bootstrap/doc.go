// Package bootstrap reads and writes the network file, the one document a
// client or super-peer needs to join a Soitto network: where the login
// server is, the CA every certificate chains to, the login server's TLS pin,
// and the super-peers to bootstrap from. It never dials anything itself.
//
// The network file is JSON:
//
//	{
//	  "version": 1,
//	  "name": "soitto-local",
//	  "login_url": "https://127.0.0.1:7443",
//	  "ca_cert": "-----BEGIN CERTIFICATE-----\n...",
//	  "login_pin": "sha256/<base64 SHA-256 of the login server's SubjectPublicKeyInfo>",
//	  "bootstrap": ["127.0.0.1:7500"]
//	}
//
// A reader trusts the login server only if its certificate chains to ca_cert
// and its public key matches login_pin.
//
// The host cache (HostCache) is the client's own list of up to MaxHosts
// super-peers, kept in the profile as JSON:
//
//	{"version": 1, "hosts": [{"addr": "192.0.2.1:7500", "last_success": "...",
//	  "last_failure": "...", "failures": 0, "rtt_ns": 42000000, "source": "peer"}]}
//
// It is seeded from the network file, learns from the super-peer lists nodes
// send, and is told by its caller which hosts worked (Success, with an RTT)
// and which did not (Failure). Candidates gives hosts to try, ordered by recent
// success and RTT, with failing hosts backed off exponentially and tried last.
package bootstrap
