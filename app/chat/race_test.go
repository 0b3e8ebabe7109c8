//go:build race

package chat

// raceEnabled: the race detector slows SQLite (pure Go) about tenfold,
// so the long tests scale down.
const raceEnabled = true
