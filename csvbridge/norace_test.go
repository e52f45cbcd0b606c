//go:build !race

package csvbridge_test

// raceEnabled: see race_test.go.
const raceEnabled = false
