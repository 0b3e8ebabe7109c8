// Package app is the Soitto client core that both the window (ui/) and the
// terminal (cmd/soitto-cli) drive: profiles, the login session and, in
// later stages, contacts, calls, chat and transfers. It exposes plain
// methods and one typed event stream, and never imports Fyne, so that
// everything a person can do in the window can be done and tested from the
// terminal.
package app
