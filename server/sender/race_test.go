//go:build race

package sender_test

// raceEnabled: the race detector changes allocation counts (sync.Pool
// drops items at random), so they are not the program's.
const raceEnabled = true
