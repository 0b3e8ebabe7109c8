// Package e2e runs the real binaries, soitto-login and soitto-cli, as a
// user would, against each other on loopback.
package e2e
