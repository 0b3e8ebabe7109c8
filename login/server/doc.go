// Package server is the login server: it registers accounts, checks
// passwords and issues the 24-hour certificates that prove who a user is
// (DESIGN.md, "Identity and trust"). It keeps no account state in memory,
// so many instances can share one PostgreSQL; only the per-IP rate limits
// live in each process.
//
// The protocol is in package api. Defences, in the order a request meets
// them: a per-IP token bucket (429 rate_limited), the content type and a
// 64 KiB body limit, strict JSON decoding, username and password rules, a
// per-IP registration bucket, a per-account exponential lock after
// LockAfter consecutive failures (429 account_locked), and a bounded
// argon2id queue (503 busy). Every refusal carries a code and one line of
// reason, and Retry-After where waiting helps.
package server
