//go:build race

package csvbridge_test

// raceEnabled: the race detector slows the apply engine about tenfold, so
// the action scale test runs a fifth of its users under it (the full
// 10,000 in every run without -race).
const raceEnabled = true
