//go:build race

package attack

// raceSlowdown is how many times slower the race detector makes CPU-bound
// code such as drawing a slider puzzle (measured: 1.8 ms -> 36 ms), for
// tests that budget CPU.
const raceSlowdown = 20
