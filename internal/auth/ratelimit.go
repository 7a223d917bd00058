package auth

import (
	"container/list"
	"math"
	"sync"
	"time"
)

// Limiter is a token-bucket rate limiter keyed by a string (a client IP, a
// user id, an API key id). Each key gets a bucket of burst tokens that
// refills at rate tokens per second; a request takes one. Memory is
// bounded: buckets that refilled completely are dropped (a full bucket is
// the same as none), and past maxKeys the least recently used goes.
type Limiter struct {
	mu      sync.Mutex
	rate    float64
	burst   float64
	maxKeys int
	clock   Clock
	lru     *list.List // of *bucket, most recently used at the front
	byKey   map[string]*list.Element
}

type bucket struct {
	key    string
	tokens float64
	last   time.Time
}

// NewLimiter returns a limiter of rate tokens per second with bursts of
// burst (at least 1), holding at most maxKeys buckets (default 100 000).
// A rate <= 0 allows everything. clock nil means the system clock.
func NewLimiter(rate float64, burst, maxKeys int, clock Clock) *Limiter {
	if clock == nil {
		clock = systemClock{}
	}
	if maxKeys <= 0 {
		maxKeys = 100000
	}
	return &Limiter{rate: rate, burst: float64(max(burst, 1)), maxKeys: maxKeys, clock: clock,
		lru: list.New(), byKey: map[string]*list.Element{}}
}

// Allow takes a token from key's bucket. When there is none it returns
// false and how long until there will be one.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	if l.rate <= 0 {
		return true, 0
	}
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dropIdle(now)
	b := l.bucketFor(key, now)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration(math.Ceil((1 - b.tokens) / l.rate * float64(time.Second)))
	return false, wait
}

// Len returns the number of buckets held.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// bucketFor returns key's bucket refilled up to now, creating it full.
func (l *Limiter) bucketFor(key string, now time.Time) *bucket {
	if e, ok := l.byKey[key]; ok {
		b := e.Value.(*bucket)
		if el := now.Sub(b.last).Seconds(); el > 0 {
			b.tokens = math.Min(l.burst, b.tokens+el*l.rate)
			b.last = now
		}
		l.lru.MoveToFront(e)
		return b
	}
	b := &bucket{key: key, tokens: l.burst, last: now}
	l.byKey[key] = l.lru.PushFront(b)
	for l.lru.Len() > l.maxKeys {
		l.remove(l.lru.Back())
	}
	return b
}

// dropIdle removes, from the least recently used end, the buckets that
// have refilled completely by now.
func (l *Limiter) dropIdle(now time.Time) {
	full := time.Duration(l.burst / l.rate * float64(time.Second))
	for e := l.lru.Back(); e != nil; e = l.lru.Back() {
		if now.Sub(e.Value.(*bucket).last) < full {
			return
		}
		l.remove(e)
	}
}

func (l *Limiter) remove(e *list.Element) {
	l.lru.Remove(e)
	delete(l.byKey, e.Value.(*bucket).key)
}

// GuardOptions configure the LoginGuard.
type GuardOptions struct {
	// MaxFailures is how many failed logins for one email are free; each
	// one past it locks the email for BaseLock, doubled every time, up to
	// MaxLock. Default 5.
	MaxFailures int
	// MaxFailuresIP is the same for one client IP (higher: many people may
	// share a venue's address). Default 20.
	MaxFailuresIP int
	// BaseLock is the first lock; default 1 second.
	BaseLock time.Duration
	// MaxLock caps the lock; default 15 minutes.
	MaxLock time.Duration
	// Forget clears the failures of an email or IP after this long without
	// a new one; default 15 minutes.
	Forget time.Duration
	// MaxKeys bounds the emails and IPs remembered; default 100 000.
	MaxKeys int
}

// DefaultGuardOptions returns the defaults of GuardOptions.
func DefaultGuardOptions() GuardOptions {
	return GuardOptions{MaxFailures: 5, MaxFailuresIP: 20, BaseLock: time.Second,
		MaxLock: 15 * time.Minute, Forget: 15 * time.Minute, MaxKeys: 100000}
}

func (o GuardOptions) withDefaults() GuardOptions {
	d := DefaultGuardOptions()
	if o.MaxFailures <= 0 {
		o.MaxFailures = d.MaxFailures
	}
	if o.MaxFailuresIP <= 0 {
		o.MaxFailuresIP = d.MaxFailuresIP
	}
	if o.BaseLock <= 0 {
		o.BaseLock = d.BaseLock
	}
	if o.MaxLock <= 0 {
		o.MaxLock = d.MaxLock
	}
	if o.Forget <= 0 {
		o.Forget = d.Forget
	}
	if o.MaxKeys <= 0 {
		o.MaxKeys = d.MaxKeys
	}
	return o
}

// LoginGuard slows password guessing: it counts failed logins per email
// and per client IP and, past a threshold, locks further attempts for a
// time that doubles with every failure. A login while locked is refused
// without checking the password. A successful login clears its email's
// failures; an IP's failures are only forgotten after a quiet time, so one
// valid account cannot be used to keep spraying passwords at others.
type LoginGuard struct {
	mu    sync.Mutex
	opts  GuardOptions
	clock Clock
	lru   *list.List // of *guardEntry, most recently touched at the front
	byKey map[string]*list.Element
}

type guardEntry struct {
	key         string
	pending     int // logins begun (Begin) and not finished yet
	failures    int
	lastFailure time.Time
	lockedUntil time.Time
}

// NewLoginGuard returns a guard; zero option fields take the defaults and
// a nil clock is the system clock.
func NewLoginGuard(opts GuardOptions, clock Clock) *LoginGuard {
	if clock == nil {
		clock = systemClock{}
	}
	return &LoginGuard{opts: opts.withDefaults(), clock: clock, lru: list.New(), byKey: map[string]*list.Element{}}
}

func emailKey(email string) string { return "e:" + email }
func ipKey(ip string) string       { return "i:" + ip }

// Check returns how long logins for email from ip remain locked (0: not
// locked).
func (g *LoginGuard) Check(email, ip string) time.Duration {
	now := g.clock.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	var wait time.Duration
	for _, k := range []string{emailKey(email), ipKey(ip)} {
		if e := g.entry(k, now, false); e != nil && e.lockedUntil.After(now) {
			wait = max(wait, e.lockedUntil.Sub(now))
		}
	}
	return wait
}

// Login outcomes for the function Begin returns.
const (
	LoginSucceeded = iota
	LoginFailed
	LoginAborted // neither: the attempt could not be checked (a store error)
)

// Begin starts a login attempt for email from ip. Attempts in flight count as failures-to-be:
// while the failures plus the attempts not finished yet reach a threshold, it refuses (a wait
// > 0), so that a burst of concurrent guesses gets no more password checks than a sequence
// would. Otherwise it returns end, to call once with the outcome.
func (g *LoginGuard) Begin(email, ip string) (wait time.Duration, end func(outcome int)) {
	now := g.clock.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	keys := []struct {
		key       string
		threshold int
	}{{emailKey(email), g.opts.MaxFailures}, {ipKey(ip), g.opts.MaxFailuresIP}}
	for _, kt := range keys {
		e := g.entry(kt.key, now, false)
		if e == nil {
			continue
		}
		if e.lockedUntil.After(now) {
			wait = max(wait, e.lockedUntil.Sub(now))
		} else if e.failures+e.pending >= kt.threshold && e.pending > 0 {
			// The attempts in flight may lock it: come back once they are done.
			wait = max(wait, g.opts.BaseLock)
		}
	}
	if wait > 0 {
		return wait, nil
	}
	for _, kt := range keys {
		g.entry(kt.key, now, true).pending++
	}
	var once sync.Once
	return 0, func(outcome int) {
		once.Do(func() {
			g.mu.Lock()
			for _, kt := range keys {
				if el, ok := g.byKey[kt.key]; ok {
					if e := el.Value.(*guardEntry); e.pending > 0 {
						e.pending--
					}
				}
			}
			g.mu.Unlock()
			switch outcome {
			case LoginSucceeded:
				g.Success(email)
			case LoginFailed:
				g.Failure(email, ip)
			}
		})
	}
}

// Failure records a failed login for email from ip and returns the lock it
// caused (0 while under the thresholds).
func (g *LoginGuard) Failure(email, ip string) time.Duration {
	now := g.clock.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	var wait time.Duration
	for _, kt := range []struct {
		key       string
		threshold int
	}{{emailKey(email), g.opts.MaxFailures}, {ipKey(ip), g.opts.MaxFailuresIP}} {
		e := g.entry(kt.key, now, true)
		e.failures++
		e.lastFailure = now
		if over := e.failures - kt.threshold; over >= 0 {
			e.lockedUntil = now.Add(g.lockFor(over))
			wait = max(wait, e.lockedUntil.Sub(now))
		}
	}
	return wait
}

// lockFor returns BaseLock doubled over times, capped at MaxLock.
func (g *LoginGuard) lockFor(over int) time.Duration {
	d := g.opts.BaseLock
	for range min(over, 62) {
		if d >= g.opts.MaxLock {
			break
		}
		d *= 2
	}
	return min(d, g.opts.MaxLock)
}

// Success clears the failures of email after a successful login.
func (g *LoginGuard) Success(email string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if e, ok := g.byKey[emailKey(email)]; ok {
		g.remove(e)
	}
}

// Len returns the number of emails and IPs remembered.
func (g *LoginGuard) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.lru.Len()
}

// entry returns key's entry, forgetting stale failures, or creates it when
// create is set (else nil). It also drops stale entries at the LRU end.
func (g *LoginGuard) entry(key string, now time.Time, create bool) *guardEntry {
	for el := g.lru.Back(); el != nil && g.stale(el.Value.(*guardEntry), now); el = g.lru.Back() {
		g.remove(el)
	}
	if el, ok := g.byKey[key]; ok {
		g.lru.MoveToFront(el)
		e := el.Value.(*guardEntry)
		if g.stale(e, now) {
			e.failures = 0
		}
		return e
	}
	if !create {
		return nil
	}
	e := &guardEntry{key: key}
	g.byKey[key] = g.lru.PushFront(e)
	for g.lru.Len() > g.opts.MaxKeys {
		g.remove(g.lru.Back())
	}
	return e
}

// stale reports whether an entry has been quiet for Forget since its last
// failure and the end of its lock.
func (g *LoginGuard) stale(e *guardEntry, now time.Time) bool {
	if e.pending > 0 {
		return false // attempts in flight
	}
	last := e.lastFailure
	if e.lockedUntil.After(last) {
		last = e.lockedUntil
	}
	return now.Sub(last) >= g.opts.Forget
}

func (g *LoginGuard) remove(el *list.Element) {
	g.lru.Remove(el)
	delete(g.byKey, el.Value.(*guardEntry).key)
}

// RetryAfterSeconds rounds a wait up to whole seconds (at least 1), for
// the Retry-After header.
func RetryAfterSeconds(d time.Duration) int64 {
	return max(1, int64((d+time.Second-1)/time.Second))
}
