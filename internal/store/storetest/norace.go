//go:build !race

package storetest

// raceEnabled is true when the race detector is on: the differential
// cases then run fewer comparisons by default (see diffCounts).
const raceEnabled = false
