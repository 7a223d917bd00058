//go:build !race

package chunk

// raceEnabled shrinks the generated databases: the race detector makes the
// pure-Go SQLite about 15 times slower.
const raceEnabled = false
