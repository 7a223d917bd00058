package auth

import (
	"fmt"
	"testing"
	"time"
)

func TestLimiterTokenBucket(t *testing.T) {
	clk := newClock()
	l := NewLimiter(2, 3, 0, clk) // 2 per second, bursts of 3
	for i := range 3 {
		if ok, _ := l.Allow("ip:1"); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, wait := l.Allow("ip:1")
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("after the burst: %v, %v; want false, 500ms", ok, wait)
	}
	if ok, _ := l.Allow("ip:2"); !ok {
		t.Fatal("another key was limited")
	}
	clk.Advance(200 * time.Millisecond)
	if ok, wait := l.Allow("ip:1"); ok || wait != 300*time.Millisecond {
		t.Fatalf("after 200ms: %v, %v; want false, 300ms", ok, wait)
	}
	clk.Advance(300 * time.Millisecond)
	if ok, _ := l.Allow("ip:1"); !ok {
		t.Fatal("refilled token refused")
	}
	if ok, _ := l.Allow("ip:1"); ok {
		t.Fatal("more than refilled")
	}
	// Never more than the burst, however long the wait.
	clk.Advance(time.Hour)
	n := 0
	for {
		if ok, _ := l.Allow("ip:1"); !ok {
			break
		}
		n++
	}
	if n != 3 {
		t.Fatalf("after an hour %d requests passed, want the burst of 3", n)
	}
	if ok, _ := NewLimiter(0, 1, 0, clk).Allow("x"); !ok {
		t.Fatal("rate 0 should allow everything")
	}
}

func TestLimiterBoundedMemory(t *testing.T) {
	clk := newClock()
	l := NewLimiter(1, 2, 100, clk)
	for i := range 1000 {
		l.Allow(fmt.Sprint("ip:", i))
	}
	if l.Len() != 100 {
		t.Fatalf("%d buckets held, want the cap of 100", l.Len())
	}
	// Buckets that refilled are dropped.
	clk.Advance(3 * time.Second)
	l.Allow("novo")
	if l.Len() != 1 {
		t.Fatalf("%d buckets after they all refilled, want 1", l.Len())
	}
	// The least recently used bucket goes first: a busy key keeps its state.
	l2 := NewLimiter(1, 2, 3, clk)
	l2.Allow("busy")
	l2.Allow("busy")
	for i := range 10 {
		l2.Allow(fmt.Sprint("k", i))
		l2.Allow("busy") // refused, but touched
	}
	if ok, _ := l2.Allow("busy"); ok {
		t.Fatal("a busy key's bucket was evicted and refilled")
	}
}

func TestLoginGuard(t *testing.T) {
	clk := newClock()
	// Forget is longer than the longest lock, so the counts carry through.
	g := NewLoginGuard(GuardOptions{Forget: time.Hour}, clk)
	const email, ip = "a@b.com", "192.0.2.1"
	for i := range 4 {
		if d := g.Failure(email, ip); d != 0 {
			t.Fatalf("failure %d locked for %v", i+1, d)
		}
		if d := g.Check(email, ip); d != 0 {
			t.Fatalf("locked after %d failures", i+1)
		}
	}
	// The 5th failure locks for 1s, then 2s, 4s...
	want := time.Second
	for i := range 12 {
		if d := g.Failure(email, ip); d != min(want, 15*time.Minute) {
			t.Fatalf("failure %d: lock %v, want %v", i+5, d, min(want, 15*time.Minute))
		}
		if d := g.Check(email, "198.51.100.9"); d != min(want, 15*time.Minute) {
			t.Fatalf("check from another IP: %v", d)
		}
		clk.Advance(min(want, 15*time.Minute) - 300*time.Millisecond)
		if d := g.Check(email, ip); d != 300*time.Millisecond {
			t.Fatalf("remaining %v, want 300ms", d)
		}
		if s := RetryAfterSeconds(g.Check(email, ip)); s != 1 {
			t.Fatalf("Retry-After %d, want 1", s)
		}
		clk.Advance(300 * time.Millisecond)
		if d := g.Check(email, ip); d != 0 {
			t.Fatalf("still locked: %v", d)
		}
		want *= 2
	}
	// Success clears the email...
	g.Success(email)
	if d := g.Failure(email, "203.0.113.5"); d != 0 {
		t.Fatalf("after success the first failure locked for %v", d)
	}
	// ...but not the IP, which has 16 failures: the 20th locks it.
	for i := range 3 {
		if d := g.Failure(fmt.Sprint("x", i, "@b.com"), ip); d != 0 {
			t.Fatalf("IP locked after %d failures", 17+i)
		}
	}
	if d := g.Failure("y@b.com", ip); d != time.Second {
		t.Fatalf("20th failure from one IP: lock %v, want 1s", d)
	}
	if d := g.Check("z@b.com", ip); d != time.Second {
		t.Fatalf("an IP lock does not cover other emails: %v", d)
	}
	// Failures are forgotten after a quiet time.
	clk.Advance(time.Second + time.Hour)
	if d := g.Failure("y@b.com", ip); d != 0 {
		t.Fatalf("after a quiet time a failure locked for %v", d)
	}
}

func TestLoginGuardBoundedMemory(t *testing.T) {
	clk := newClock()
	g := NewLoginGuard(GuardOptions{MaxKeys: 50}, clk)
	for i := range 500 {
		g.Failure(fmt.Sprint(i, "@b.com"), fmt.Sprint("10.0.", i/250, ".", i%250))
	}
	if g.Len() > 50 {
		t.Fatalf("%d entries, cap 50", g.Len())
	}
	clk.Advance(time.Hour)
	g.Check("novo@b.com", "10.9.9.9")
	if g.Len() != 0 {
		t.Fatalf("%d stale entries kept", g.Len())
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	for d, want := range map[time.Duration]int64{0: 1, time.Millisecond: 1, time.Second: 1, time.Second + 1: 2, 90 * time.Second: 90, 899500 * time.Millisecond: 900} {
		if got := RetryAfterSeconds(d); got != want {
			t.Errorf("RetryAfterSeconds(%v) = %d, want %d", d, got, want)
		}
	}
}
