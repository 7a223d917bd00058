package policy

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestConcurrent runs 8 goroutines of mixed operations on every policy and checks the limits
// after each operation, that Get never returns an expired entry or another key's entry, and at
// the end that every accepted entry was reported exactly once.
func TestConcurrent(t *testing.T) {
	forEach(t, func(t *testing.T, p string) {
		for _, maxItems := range []int{0, 50} {
			t.Run(fmt.Sprint("items", maxItems), func(t *testing.T) {
				runConcurrent(t, p, maxItems, false)
			})
		}
		t.Run("resize", func(t *testing.T) { runConcurrent(t, p, 50, true) })
	})
}

func runConcurrent(t *testing.T, p string, maxItems int, resize bool) {
	const (
		goroutines = 8
		maxBytes   = 20_000
	)
	ops := 3000
	if testing.Short() {
		ops = 500
	}
	clk := newClock()
	var reported atomic.Int64
	var reasons [NumReasons]atomic.Int64
	c := mustNew(t, p, Config{MaxBytes: maxBytes, MaxItems: maxItems, Now: clk.Now, OnEvict: func(e *Entry, r Reason) {
		reported.Add(1)
		reasons[r].Add(1)
	}})
	var accepted atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 3))
			for i := range ops {
				key := fmt.Sprint("k", rng.IntN(300))
				switch op := rng.IntN(100); {
				case op < 40:
					e := item(key, rng.IntN(400))
					if rng.IntN(3) == 0 {
						e.ExpiresAt = clk.Now().Add(time.Duration(rng.IntN(3000)) * time.Millisecond)
					}
					if err := c.Set(e); err != nil {
						errs <- err
						return
					}
					accepted.Add(1)
				case op < 80:
					before := clk.Now()
					if e, ok := c.Get(key); ok {
						if e.Key != key {
							errs <- fmt.Errorf("Get(%q) returned %q", key, e.Key)
							return
						}
						if !e.ExpiresAt.IsZero() && !e.ExpiresAt.After(before) {
							errs <- fmt.Errorf("Get(%q) returned an entry expired at %v, before %v", key, e.ExpiresAt, before)
							return
						}
					}
				case op < 85:
					c.Peek(key)
				case op < 92:
					c.Delete(key)
				case op < 96:
					clk.Advance(time.Duration(rng.IntN(100)) * time.Millisecond)
				case op < 97:
					c.Keys()
				case op < 98:
					c.RemoveExpired()
				case op < 99 && resize && g == 0:
					if i%2 == 0 {
						c.Resize(maxBytes/2, maxItems/2)
					} else {
						c.Resize(maxBytes, maxItems)
					}
				case op == 99 && i%10 == 0:
					c.Clear()
				}
				// with resize, the limits may be halved at any time: check the larger ones
				if b := c.Bytes(); b > maxBytes {
					errs <- fmt.Errorf("Bytes() = %d > %d", b, maxBytes)
					return
				}
				if n := c.Len(); maxItems > 0 && n > maxItems {
					errs <- fmt.Errorf("Len() = %d > %d", n, maxItems)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if !resize {
		checkLimits(t, c, maxBytes, maxItems)
	}
	c.Clear()
	settle(c)
	if c.Len() != 0 || c.Bytes() != 0 {
		t.Fatalf("after Clear: Len %d Bytes %d", c.Len(), c.Bytes())
	}
	if accepted.Load() != reported.Load() {
		t.Fatalf("%d entries accepted, %d reported", accepted.Load(), reported.Load())
	}
	for r := range reasons {
		if reasons[r].Load() == 0 {
			t.Errorf("no eviction with reason %v", Reason(r))
		}
	}
}
