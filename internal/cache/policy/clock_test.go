package policy

import (
	"testing"
	"time"
)

func TestIdleClockStopsWhenUnused(t *testing.T) {
	c := &idleClock{}
	before := time.Now().UnixNano()
	if n := c.NowNano(); n < before || n > time.Now().UnixNano() {
		t.Fatalf("first read %d not the precise time", n)
	}
	if !c.running.Load() {
		t.Fatal("a read did not start the refresher")
	}
	// Read for a while: the value follows the time within the resolution.
	for range 30 {
		time.Sleep(10 * time.Millisecond)
		if lag := time.Now().UnixNano() - c.NowNano(); lag < 0 || lag > int64(100*time.Millisecond) {
			t.Fatalf("lag %v", time.Duration(lag))
		}
	}
	// Unused: the refresher stops (after 100 ms).
	deadline := time.Now().Add(5 * time.Second)
	for c.running.Load() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if c.running.Load() {
		t.Fatal("the refresher kept running without readers")
	}
	stale := c.now.Load()
	time.Sleep(20 * time.Millisecond)
	if n := c.NowNano(); n <= stale || !c.running.Load() {
		t.Fatalf("the first read after the rest returned %d (stale %d) or did not restart", n, stale)
	}
}
