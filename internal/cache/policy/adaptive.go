package policy

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"
)

// adaptive is the "adaptativo" policy: otter v2 (W-TinyLFU with hill climbing) weighted by
// Entry.weight, with MaximumWeight = MaxBytes.
//
// Limits. otter inserts first and evicts later, in a maintenance pass that normally runs
// asynchronously. To make the limits hold when an operation returns:
//   - writers (Set, Delete, Clear, Resize, RemoveExpired) are serialised by mu. After a write,
//     if the exact stored weight (bytes) exceeds maxBytes, CleanUp runs otter's pending
//     maintenance on the caller: it replays the write buffer and evicts until the policy's
//     weighted size is within the maximum, and with writers serialised that is everything
//     stored;
//   - bytes and items are exact: Set adds the entry it stored, and the synchronous deletion
//     listener (OnAtomicDeletion, which runs under otter's bucket lock when an entry leaves the
//     table) subtracts every entry that leaves, whatever removes it. Only writers add, so
//     outside a write they can only fall; Len and Bytes read them under mu, so they never see a
//     write half done;
//   - MaxItems: while items > maxItems, expired entries are removed first (CleanUp, then
//     purgeExpired), then the coldest entries in otter's eviction order (Coldest), other than
//     the one just written, are invalidated and reported as Size: the excess plus a slack of
//     MaxItems/64 (at most 64), so that the walk of Coldest is amortised over many Sets.
//
// otter may also refuse a new entry: W-TinyLFU's admission can evict the candidate rather than
// the victim. That is reported as Size, like any eviction.
//
// Expiry. otter keeps the deadline (its ExpiryCalculator sets it from ExpiresAt at every write)
// and removes expired entries with its timer wheel during maintenance (reads and writes run it;
// there is no once-a-second clean-up: the cache manager calls RemoveExpired every 10 s). Its
// clock is a shared coarse clock (an atomic load, updated every coarseResolution while caches
// read it, see idleClock), so reads do not pay for reading the time; the wrapper checks ExpiresAt precisely instead, and only for entries that
// have one: Get, Peek and Keys never return an entry past its ExpiresAt, and Get removes it.
// Any removal of an entry past its ExpiresAt is reported as Expired, whatever otter's cause.
//
// Reads (Get, Peek) take no lock of ours: a Get hit is otter's GetIfPresent, the ExpiresAt check
// (skipped, without loading the entry, until the first entry with an expiry is stored) and one
// atomic load (are removals waiting to be reported?), and allocates nothing. The fields a Get
// reads sit on a cache line of their own.
//
// Reasons. otter's causes map directly (Overflow → Size, Expiration → Expired, Replacement →
// Replaced) except Invalidation, which Delete, Clear and the MaxItems trimming all produce; they
// run under mu and set invalReason first, so the listener knows which it is.
//
// Reporting. The listener runs under otter's locks, so it only queues the removal; every
// operation reports the queued removals once it holds no lock (Get and Peek only when the queue
// is not empty). Removals otter makes in the background (the timer wheel, in maintenance passes
// run on their own goroutines) are reported by the next operation.
type adaptive struct {
	// Read by every Get; written rarely (pending, when removals are queued or reported).
	c       *otter.Cache[string, *Entry]
	nanos   func() int64 // the precise clock, Unix nanoseconds
	onEvict func(*Entry, Reason)
	// hasExpiry is set, for good, before the first entry with an ExpiresAt is stored: until
	// then a Get hit does not load the entry to check it. It is never cleared: a reader that
	// found an entry an instant before its removal could see it cleared and skip the check.
	hasExpiry atomic.Bool
	pending   atomic.Bool // removals are queued
	_         [64]byte    // keeps the fields above off the cache line of those written below

	mu sync.Mutex // serialises writers, and Len/Bytes against them
	// writing is set while a writer holds mu (see lock): otter's maintenance then runs on the
	// caller instead of a new goroutine.
	writing  atomic.Bool
	maxBytes int64 // guarded by mu
	maxItems int64 // guarded by mu
	// ttlKeys holds (at least) the keys whose entry has an expiry; guarded by mu. otter lists
	// no entry it knows to be expired (Coldest, Keys and All skip them) and its timer wheel
	// removes them only once their tick has passed, so this is how purgeExpired finds the
	// rest. Keys whose entry otter removed are pruned when the map outgrows the cache.
	ttlKeys map[string]struct{}
	victims []string // evictColdest's buffer; guarded by mu
	// unit: every entry weighs 1 for otter (MaximumWeight = MaxItems), and all maintenance
	// runs synchronously (as a simulator does); see NewAdaptiveEntries
	unit bool
	// migrated collects the entries drain removes; guarded by mu
	migrated []*Entry

	bytes       atomic.Int64 // weight of the stored entries
	items       atomic.Int64 // number of stored entries
	expired     atomic.Int64 // entries removed as expired, ever
	invalReason atomic.Int32 // the Reason of otter's CauseInvalidation

	ev evictQueue
}

// coarseResolution is how often the shared clock of the adaptive caches reads the time.
const coarseResolution = 10 * time.Millisecond

var (
	coarseOnce  sync.Once
	coarseClock *idleClock
)

// sharedCoarseClock returns the clock shared by the adaptive caches that use the real time.
func sharedCoarseClock() *idleClock {
	coarseOnce.Do(func() { coarseClock = &idleClock{} })
	return coarseClock
}

// idleClock is a coarse clock (an atomic load per read, refreshed every coarseResolution by a
// goroutine, like otter's CoarseClock) that stops refreshing when nobody reads it: after a
// 100 ms without a read the goroutine exits, so an idle service does not wake up 100 times a
// second (measured: that ticker alone cost 1.8% of a core here), and the next read reads the
// precise time and starts it again. A read costs two atomic loads (the "used" flag is written
// only when it was clear, so readers on other cores do not bounce its cache line).
type idleClock struct {
	now     atomic.Int64
	used    atomic.Bool
	running atomic.Bool
}

// NowNano returns Unix nanoseconds, at most coarseResolution stale while the clock runs.
func (c *idleClock) NowNano() int64 {
	if !c.used.Load() {
		c.used.Store(true)
	}
	if c.running.Load() {
		return c.now.Load()
	}
	return c.wake()
}

func (c *idleClock) wake() int64 {
	n := time.Now().UnixNano()
	c.now.Store(n)
	if c.running.CompareAndSwap(false, true) {
		go c.run()
	}
	return n
}

func (c *idleClock) run() {
	t := time.NewTicker(coarseResolution)
	defer t.Stop()
	for i := 1; ; i++ {
		<-t.C
		c.now.Store(time.Now().UnixNano())
		if i%idleChecks == 0 && !c.used.Swap(false) {
			c.running.Store(false)
			return
		}
	}
}

// idleChecks: the refresher stops after this many ticks (100 ms) without a read.
const idleChecks = 10

// Tick returns no ticks: otter's once-a-second clean-up would read the clock every second and
// keep the refresher running in an idle process. Expired entries are found by reads and
// writes, and the cache manager calls RemoveExpired on every area that holds entries every
// 10 s.
func (c *idleClock) Tick(time.Duration) <-chan time.Time { return nil }

// clockFunc adapts Config.Now to otter's Clock. It returns no ticks: with a fake clock there is
// no periodic clean-up, and expiry is found by reads, writes and RemoveExpired.
type clockFunc func() time.Time

func (f clockFunc) NowNano() int64                      { return f().UnixNano() }
func (f clockFunc) Tick(time.Duration) <-chan time.Time { return nil }

func realNanos() int64 { return time.Now().UnixNano() }

// expiryWriting sets an entry's deadline from its ExpiresAt at every write; reads leave it.
func expiryWriting(e otter.Entry[string, *Entry]) time.Duration {
	exp := e.Value.exp
	if exp == 0 {
		return math.MaxInt64
	}
	// SnapshotAtNano is otter's clock reading for this write: the deadline is exp exactly
	if d := exp - e.SnapshotAtNano; d > 0 {
		return time.Duration(d)
	}
	// already past by otter's clock: the smallest lifetime (0 would mean "keep the deadline")
	return 1
}

// execute is otter's Executor. Maintenance that a write schedules runs at once on the writer,
// which holds mu and would otherwise wait for it in CleanUp, after otter had started a goroutine
// for it; maintenance that a read schedules runs on a new goroutine, as with otter's default
// executor, so that reads stay cheap. (A read that schedules one while a write is in progress
// runs it too.)
func (a *adaptive) execute(fn func()) {
	if a.unit || a.writing.Load() {
		fn()
		return
	}
	go fn()
}

// lock and unlock bracket a write.
func (a *adaptive) lock() {
	a.mu.Lock()
	a.writing.Store(true)
}

func (a *adaptive) unlock() {
	a.writing.Store(false)
	a.mu.Unlock()
}

// reasonMigrated is the invalReason of drain: the entry moves to another engine, unreported.
const reasonMigrated Reason = -1

func newAdaptive(cfg Config, unit bool) (*adaptive, error) {
	a := &adaptive{
		unit:     unit,
		maxBytes: cfg.MaxBytes,
		maxItems: int64(cfg.MaxItems),
		onEvict:  cfg.OnEvict,
		ttlKeys:  make(map[string]struct{}),
		nanos:    realNanos,
	}
	a.invalReason.Store(int32(Deleted))
	opts := &otter.Options[string, *Entry]{
		MaximumWeight:    uint64(cfg.MaxBytes),
		Weigher:          func(_ string, e *Entry) uint32 { return uint32(e.weight) },
		ExpiryCalculator: otter.ExpiryWritingFunc(expiryWriting),
		OnAtomicDeletion: a.removed,
		Executor:         a.execute,
	}
	if unit {
		opts.MaximumWeight = 0
		opts.Weigher = nil
		opts.MaximumSize = max(cfg.MaxItems, 1)
		opts.ExpiryCalculator = nil
	}
	if now := cfg.Now; now != nil {
		opts.Clock = clockFunc(now)
		a.nanos = func() int64 { return now().UnixNano() }
	} else {
		opts.Clock = sharedCoarseClock()
	}
	c, err := otter.New(opts)
	if err != nil {
		return nil, err
	}
	a.c = c
	return a, nil
}

// expiredAt reports whether e has expired at now.
func expiredAt(e *Entry, now int64) bool { return e.exp != 0 && e.exp <= now }

// live reports whether e has not expired, reading the clock only if e has an expiry.
func (a *adaptive) live(e *Entry) bool { return e.exp == 0 || e.exp > a.nanos() }

// hit reports whether an entry otter returned may be returned: otter's coarse clock can be
// late, so an entry with an expiry is checked against the precise clock.
func (a *adaptive) hit(e *Entry) bool { return !a.hasExpiry.Load() || a.live(e) }

// removed is otter's OnAtomicDeletion: it runs under the bucket lock of the key, before the
// removal is visible.
func (a *adaptive) removed(ev otter.DeletionEvent[string, *Entry]) {
	a.bytes.Add(-ev.Value.weight)
	a.items.Add(-1)
	var r Reason
	switch {
	case ev.Cause == otter.CauseExpiration || !a.live(ev.Value):
		r = Expired
		a.expired.Add(1)
	case ev.Cause == otter.CauseOverflow:
		r = Size
	case ev.Cause == otter.CauseReplacement:
		r = Replaced
	default:
		r = Reason(a.invalReason.Load())
	}
	if r == reasonMigrated {
		a.migrated = append(a.migrated, ev.Value)
		return
	}
	if a.onEvict == nil {
		return
	}
	a.ev.push(ev.Value, r, &a.pending)
}

// maxSpareEvents bounds the capacity of the queue buffer kept for reuse (Clear may queue the
// whole cache).
const maxSpareEvents = 1024

// evictQueue holds removals until an operation that holds no lock delivers
// them to OnEvict. The owner keeps the pending flag (read on every Get) in
// its own hot fields.
type evictQueue struct {
	mu    sync.Mutex
	queue []evicted // guarded by mu
	spare []evicted // guarded by mu
}

func (q *evictQueue) push(e *Entry, r Reason, pending *atomic.Bool) {
	q.mu.Lock()
	q.queue = append(q.queue, evicted{e, r})
	pending.Store(true)
	q.mu.Unlock()
}

// deliver calls onEvict for the queued removals; the caller holds no lock.
// Concurrent callers each deliver a disjoint part of the queue.
func (q *evictQueue) deliver(pending *atomic.Bool, onEvict func(*Entry, Reason)) {
	for pending.Load() {
		q.mu.Lock()
		batch := q.queue
		q.queue, q.spare = q.spare[:0], nil
		pending.Store(false)
		q.mu.Unlock()
		for i, ev := range batch {
			onEvict(ev.e, ev.r)
			batch[i] = evicted{}
		}
		q.mu.Lock()
		if q.spare == nil && cap(batch) <= maxSpareEvents {
			q.spare = batch[:0]
		}
		q.mu.Unlock()
	}
}

// report calls OnEvict for the queued removals; the caller holds no lock.
func (a *adaptive) report() { a.ev.deliver(&a.pending, a.onEvict) }

func (a *adaptive) Policy() string { return Adaptativo }

func (a *adaptive) Get(key string) (*Entry, bool) {
	if e, ok := a.c.GetIfPresent(key); ok && a.hit(e) {
		if a.pending.Load() {
			a.report()
		}
		return e, true
	}
	return a.miss(key)
}

// miss removes the key's entry if it has expired: ComputeIfPresent only looks up an absent key,
// removes an entry that otter knows to be expired by itself, and removeIfExpired the ones only
// the precise clock knows.
func (a *adaptive) miss(key string) (*Entry, bool) {
	// until an entry with an expiry is stored nothing can have expired (and the lookup would
	// count as a second access in otter's policy)
	if a.hasExpiry.Load() {
		a.c.ComputeIfPresent(key, a.removeIfExpired)
	}
	if a.pending.Load() {
		a.report()
	}
	return nil, false
}

// removeIfExpired is a ComputeIfPresent function that removes an expired entry.
func (a *adaptive) removeIfExpired(old *Entry) (*Entry, otter.ComputeOp) {
	if a.live(old) {
		return old, otter.CancelOp
	}
	return old, otter.InvalidateOp
}

func (a *adaptive) Peek(key string) (*Entry, bool) {
	e, ok := a.c.GetEntryQuietly(key)
	if a.pending.Load() {
		a.report()
	}
	if !ok || !a.live(e.Value) {
		return nil, false
	}
	return e.Value, true
}

func (a *adaptive) Set(e *Entry) error {
	if e == nil {
		return ErrNilEntry
	}
	cp := stored(e)
	if cp.weight > math.MaxUint32 {
		return ErrTooLarge
	}
	a.lock()
	if cp.weight > a.maxBytes {
		a.unlock()
		return ErrTooLarge
	}
	if cp.exp != 0 {
		if !a.live(cp) {
			// expired on arrival: not stored, the key's entry replaced by nothing
			a.invalReason.Store(int32(Replaced))
			a.c.Invalidate(cp.Key)
			a.invalReason.Store(int32(Deleted))
			delete(a.ttlKeys, cp.Key)
			a.unlock()
			if a.onEvict != nil {
				a.report()
				a.onEvict(cp, Expired)
			}
			return nil
		}
		a.ttlKeys[cp.Key] = struct{}{}
		if !a.hasExpiry.Load() {
			// before otter has the entry: a Get that can see it must check it
			a.hasExpiry.Store(true)
		}
		if len(a.ttlKeys) > 2*int(a.items.Load())+64 {
			a.purgeExpired("")
		}
	} else if len(a.ttlKeys) > 0 {
		delete(a.ttlKeys, cp.Key)
	}
	a.c.Set(cp.Key, cp)
	a.bytes.Add(cp.weight)
	a.items.Add(1)
	a.enforce(cp.Key)
	a.unlock()
	a.report()
	return nil
}

// enforce brings the cache within its limits; mu is held. skip is not evicted for MaxItems.
func (a *adaptive) enforce(skip string) {
	// otter's maintenance evicts until its accounted weight fits; one pass replays the whole
	// write buffer, which holds at most the few tasks of the serialised writers
	for i := 0; i < 4 && (a.bytes.Load() > a.maxBytes || (a.unit && a.items.Load() > a.maxItems)); i++ {
		a.c.CleanUp()
	}
	if !a.over() {
		return
	}
	// expired entries go before live ones
	if len(a.ttlKeys) > 0 {
		a.c.CleanUp()
		if a.over() {
			a.purgeExpired(skip)
		}
	}
	for a.over() && a.evictColdest(skip) {
	}
}

func (a *adaptive) over() bool {
	return a.bytes.Load() > a.maxBytes || (a.maxItems > 0 && a.items.Load() > a.maxItems)
}

// purgeExpired removes the expired entries of the keys in ttlKeys, other than skip, and forgets
// the keys that have no entry left; mu is held.
func (a *adaptive) purgeExpired(skip string) {
	now := a.nanos()
	for k := range a.ttlKeys {
		if k == skip {
			continue
		}
		if e, ok := a.c.GetEntryQuietly(k); ok && !expiredAt(e.Value, now) {
			continue
		}
		// absent, or expired: ComputeIfPresent removes an expired entry
		a.c.ComputeIfPresent(k, a.removeIfExpired)
		delete(a.ttlKeys, k)
	}
}

// maxItemsSlack bounds the extra entries evictColdest removes when the item limit is exceeded.
const maxItemsSlack = 64

// evictColdest invalidates, as Size, the coldest entries other than skip: one, or when the item
// limit is exceeded the excess plus a slack of MaxItems/64 (at most maxItemsSlack), so that the
// walk of Coldest (an iterator of merged queues, about 1 µs) is paid once per that many Sets
// rather than on every Set, at the cost of up to 1/64 of MaxItems left unused. mu is held.
func (a *adaptive) evictColdest(skip string) bool {
	n := 1
	if over := a.items.Load() - a.maxItems; a.maxItems > 0 && over > 0 {
		n = int(over + min(a.maxItems/64, maxItemsSlack))
	}
	victims := a.victims[:0]
	for e := range a.c.Coldest() {
		if e.Key != skip {
			victims = append(victims, e.Key)
			if len(victims) == n {
				break
			}
		}
	}
	a.victims = victims[:0]
	if len(victims) == 0 {
		return false
	}
	a.invalReason.Store(int32(Size))
	for _, k := range victims {
		a.c.Invalidate(k)
	}
	a.invalReason.Store(int32(Deleted))
	clear(victims)
	return true
}

func (a *adaptive) Delete(key string) bool {
	a.lock()
	e, ok := a.c.Invalidate(key)
	delete(a.ttlKeys, key)
	a.unlock()
	a.report()
	return ok && a.live(e)
}

func (a *adaptive) Clear() {
	a.lock()
	a.invalReason.Store(int32(Cleared))
	a.c.InvalidateAll()
	a.invalReason.Store(int32(Deleted))
	clear(a.ttlKeys)
	a.unlock()
	a.report()
}

func (a *adaptive) Len() int {
	a.mu.Lock()
	n := a.items.Load()
	a.mu.Unlock()
	return int(n)
}

func (a *adaptive) Bytes() int64 {
	a.mu.Lock()
	b := a.bytes.Load()
	a.mu.Unlock()
	return b
}

func (a *adaptive) Resize(maxBytes int64, maxItems int) {
	a.lock()
	if maxBytes > 0 && maxBytes != a.maxBytes {
		a.maxBytes = maxBytes
		if !a.unit {
			// evicts eagerly, reported as CauseOverflow
			a.c.SetMaximum(uint64(maxBytes))
		}
	}
	if maxItems >= 0 {
		a.maxItems = int64(maxItems)
		if a.unit {
			a.c.SetMaximum(uint64(max(maxItems, 1)))
		}
	}
	a.enforce("")
	a.unlock()
	a.report()
}

func (a *adaptive) Keys() []string {
	now := a.nanos()
	keys := make([]string, 0, a.items.Load())
	for k, e := range a.c.All() {
		if !expiredAt(e, now) {
			keys = append(keys, k)
		}
	}
	if a.pending.Load() {
		a.report()
	}
	return keys
}

func (a *adaptive) RemoveExpired() int {
	before := a.expired.Load()
	a.lock()
	a.c.CleanUp()
	a.purgeExpired("")
	a.unlock()
	a.report()
	return int(a.expired.Load() - before)
}

// drain removes every entry without reporting the live ones, which it returns from coldest to
// hottest in otter's eviction order; expired ones are reported as Expired. The adaptive policy
// uses it to migrate the entries to another engine.
func (a *adaptive) drain() []*Entry {
	a.lock()
	keys := make([]string, 0, a.items.Load())
	for e := range a.c.Coldest() {
		keys = append(keys, e.Key)
	}
	a.migrated = make([]*Entry, 0, len(keys))
	a.invalReason.Store(int32(reasonMigrated))
	for _, k := range keys {
		a.c.Invalidate(k)
	}
	// what is left is what otter already knows to have expired
	a.invalReason.Store(int32(Expired))
	a.c.InvalidateAll()
	a.invalReason.Store(int32(Deleted))
	clear(a.ttlKeys)
	out := a.migrated
	a.migrated = nil
	a.unlock()
	a.report()
	return out
}
