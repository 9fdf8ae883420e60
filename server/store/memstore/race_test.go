//go:build race

package memstore

// raceEnabled shrinks the memory measurement under the race detector, which
// makes each call tens of times slower and does not change entry sizes.
const raceEnabled = true
