// Package api is the login server's HTTPS JSON protocol: the request and
// response bodies, their strict decoders, and the error codes, shared by the
// server and the client so that both sides read one definition.
//
// Every request is a POST with Content-Type application/json and a body of
// at most MaxBody bytes holding exactly one JSON object with no unknown
// fields:
//
//	POST /v1/register  {"username": "Alice", "password": "..."}
//	  201 {"username": "alice"}                      the normalized name
//	POST /v1/login     {"username": "alice", "password": "...", "public_key": "<base64 DER SubjectPublicKeyInfo, ECDSA P-256>"}
//	  200 {"username": "alice", "certificate": "<PEM>", "not_after": "RFC 3339"}
//	GET  /v1/health
//	  200 {"status": "ok"}
//
// Every refusal is a 4xx or 5xx with one line of reason:
//
//	{"error": {"code": "username_taken", "message": "username \"alice\" is taken"}}
//
// 429 and 503 carry Retry-After in seconds. Codes and statuses are listed
// in errors.go; ErrorFor and CodeOf map between codes and Go errors.
package api
