//go:build race

package e2e

// raceEnabled says the tests were built with -race: the server binary is
// then built with -race as well.
const raceEnabled = true
