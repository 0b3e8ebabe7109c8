// Package store keeps the login server's accounts and certificate audit log
// in SQLite or PostgreSQL. No account state lives in server memory, so
// several login servers can share one PostgreSQL database and agree on
// every lockout.
package store
