package policy

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// EntryOverhead is the fixed number of bytes that [Entry.Weight] charges every entry on top of
// the lengths of its strings and slices. It stands for what the cache spends per entry besides
// the payload: the node with its links, the map slot and the slice and string headers. 64 bytes
// is a round lower bound of that; it keeps a cache of tiny entries from holding an unbounded
// number of them under a byte limit.
const EntryOverhead = 64

// Entry is a cached item.
//
// [Cache.Set] stores a shallow copy of the entry: the struct itself may be reused by the caller
// afterwards, but the byte slice and the tags are shared and must not be modified. The entries
// that Get, Peek, Keys and OnEvict hand out are the cache's own copies and are read-only.
type Entry struct {
	Key         string
	Value       []byte
	ContentType string
	Tags        []string
	// ExpiresAt is when the entry expires; the zero time means never. An entry is expired at
	// and after ExpiresAt.
	ExpiresAt time.Time

	// weight is Weight() and exp is expiryNanos(ExpiresAt), computed once when the cache
	// stores its copy, so that the accounting never depends on the caller leaving the slices
	// alone.
	weight int64
	exp    int64
}

// Weight is what the entry costs against [Config.MaxBytes]: the lengths of the key, the value,
// the content type and every tag, plus [EntryOverhead].
func (e *Entry) Weight() int64 {
	w := int64(EntryOverhead + len(e.Key) + len(e.Value) + len(e.ContentType))
	for _, t := range e.Tags {
		w += int64(len(t))
	}
	return w
}

// stored returns the cache's own copy of e with its weight computed.
func stored(e *Entry) *Entry {
	cp := *e
	cp.weight = cp.Weight()
	cp.exp = expiryNanos(cp.ExpiresAt)
	return &cp
}

// expiryNanos returns ExpiresAt in Unix nanoseconds, 0 for never. Times that do not fit in an
// int64 of nanoseconds are clamped: before 1970 to 1 (long expired), after 2262 to MaxInt64.
func expiryNanos(t time.Time) int64 {
	switch {
	case t.IsZero():
		return 0
	case t.After(maxNanoTime):
		return math.MaxInt64
	}
	if n := t.UnixNano(); n > 0 {
		return n
	}
	return 1
}

var maxNanoTime = time.Unix(0, math.MaxInt64)

// Reason says why an entry left the cache; [Config.OnEvict] receives it.
type Reason int

const (
	// Size: evicted to make room (byte or item limit, including a shrinking Resize).
	Size Reason = iota
	// Expired: the entry's ExpiresAt has passed.
	Expired
	// Deleted: removed by Delete.
	Deleted
	// Cleared: removed by Clear.
	Cleared
	// Replaced: overwritten by a Set of the same key.
	Replaced
)

// NumReasons is the number of Reason values; they run from 0 to NumReasons-1, so a
// [NumReasons]T array can be indexed by a Reason.
const NumReasons = 5

var reasonNames = [NumReasons]string{"tamanho", "expiracao", "remocao", "limpeza", "substituicao"}

// String returns the reason's name as the API reports it: "tamanho", "expiracao", "remocao",
// "limpeza" or "substituicao".
func (r Reason) String() string {
	if r >= 0 && int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return fmt.Sprintf("Reason(%d)", int(r))
}

// Policy names accepted by [New].
const (
	LRU        = "lru"
	LFU        = "lfu"
	FIFO       = "fifo"
	TTL        = "ttl"
	Adaptativo = "adaptativo"
)

// Policies lists the policy names accepted by [New].
func Policies() []string { return []string{LRU, LFU, FIFO, TTL, Adaptativo} }

// Config sizes a cache.
type Config struct {
	// MaxBytes bounds the sum of the entries' weights; it must be positive.
	MaxBytes int64
	// MaxItems bounds the number of entries; 0 means no bound.
	MaxItems int
	// OnEvict, if not nil, is called once for every entry that leaves the cache, with the
	// reason. It is never called while the cache holds an internal lock, so it may call the
	// cache. It runs on the goroutine of the operation that removed the entry (for the adaptive
	// policy, of a later operation when the removal happened in the background; see
	// [New]).
	OnEvict func(e *Entry, r Reason)
	// Now, if not nil, replaces time.Now (tests use a fake clock).
	Now func() time.Time
}

// Errors.
var (
	// ErrTooLarge is returned by Set for an entry whose weight exceeds MaxBytes. The cache is
	// left unchanged: an entry already stored under the key stays.
	ErrTooLarge = errors.New("policy: entry is larger than the cache's byte limit")
	// ErrUnknownPolicy is wrapped by the error New returns for a name it does not know.
	ErrUnknownPolicy = errors.New("policy: unknown policy")
	// ErrNilEntry is returned by Set(nil).
	ErrNilEntry = errors.New("policy: nil entry")
)

// Cache is a bounded, concurrency-safe cache of entries under one eviction policy.
//
// After any method returns, Bytes() <= MaxBytes and, when MaxItems > 0, Len() <= MaxItems.
type Cache interface {
	// Get returns the entry under key and counts an access for the policy. An expired entry is
	// a miss, and is removed with reason Expired.
	Get(key string) (*Entry, bool)
	// Peek is Get without the access: it neither updates recency or frequency nor removes an
	// expired entry (which it reports as a miss).
	Peek(key string) (*Entry, bool)
	// Set stores a copy of e under e.Key, replacing (reason Replaced) what the key held, and
	// evicts entries as needed (reason Size) to fit the limits. lru, lfu, fifo and ttl never
	// evict the entry being written to make room for itself; adaptativo may (W-TinyLFU's
	// admission can turn away a new entry colder than its victim). It returns ErrTooLarge,
	// changing nothing, when e.Weight() > MaxBytes. An entry that has already expired when
	// Set is called is not stored: the key's previous entry is removed (Replaced) and the new
	// one is reported at once with reason Expired, so that every entry Set accepts is
	// reported exactly once.
	Set(e *Entry) error
	// Delete removes the key's entry (reason Deleted) and reports whether a live one was
	// there. An expired entry is removed with reason Expired and Delete returns false.
	Delete(key string) bool
	// Clear removes every entry (reason Cleared, or Expired for the expired ones).
	Clear()
	// Len is the number of entries stored, expired ones not yet removed included.
	Len() int
	// Bytes is the sum of the stored entries' weights.
	Bytes() int64
	// Resize changes the limits. maxBytes <= 0 keeps the byte limit and maxItems < 0 the item
	// limit (0 removes it). Shrinking evicts at once, with reason Size.
	Resize(maxBytes int64, maxItems int)
	// Keys returns a snapshot of the live keys, in no particular order.
	Keys() []string
	// RemoveExpired removes the entries that have expired (reason Expired) and returns how
	// many it removed. lru, lfu, fifo and ttl already do this at every Set, Delete and Resize;
	// a janitor can call it to reclaim memory of a cache that is only read.
	RemoveExpired() int
	// Policy returns the policy's name: "lru", "lfu", "fifo", "ttl" or "adaptativo".
	Policy() string
}

// New returns an empty cache with the named policy:
//
//   - "lru": exact least-recently-used (doubly linked list and map). Get and overwrites make an
//     entry most recent; the least recent is evicted.
//   - "lfu": least-frequently-used in O(1) (a list of frequency buckets, each a list in LRU
//     order, so ties go to the least recently used), with aging: every 10×C accesses (C is
//     MaxItems, or the current number of entries when there is no item limit, at least 64)
//     all counts are halved, rounding up, so that old popularity fades. Halving walks the
//     buckets and merges those that become equal, keeping the nodes of the formerly lower count
//     on the eviction side; it re-points only the nodes of the smaller bucket of each merge,
//     which is O(1) amortised over the 10×C accesses that trigger it. Get, and Set of a new or
//     existing key, count as accesses; a new entry starts at count 1.
//   - "fifo": insertion order; Get does not reorder. An overwrite keeps the key's place in the
//     queue: the order is that of the key's first insertion (as in a FIFO simulator, where a
//     repeated key is a hit). A key that was removed and is set again goes to the back.
//   - "ttl": evicts the entry that expires soonest (a min-heap on ExpiresAt); entries without
//     ExpiresAt go last, in FIFO order (an overwrite that keeps them without expiry keeps their
//     place).
//   - "adaptativo": an adaptive policy that runs one of three engines and picks it from
//     miniature simulations of all three on a spatial sample of the Gets (see the switcher
//     type): W-TinyLFU (otter v2 with hill climbing, the engine it starts with), a weighted ARC
//     and exact LRU. When another engine's simulated hit ratio beats the live one's by enough
//     (1 pp, 3 pp to leave W-TinyLFU, over a decaying window), it drains the live engine and
//     migrates its entries (coldest first, unreported) into the new one. The W-TinyLFU engine
//     is otter weighted by Entry.Weight with MaximumWeight = MaxBytes, per-entry expiry
//     through its ExpiryCalculator (the deadline is ExpiresAt, set at every write) and its
//     synchronous deletion listener mapped to Reason. otter evicts in maintenance passes that
//     normally run later, so writes are serialised and run otter's pending maintenance
//     (CleanUp) whenever the stored weight exceeds MaxBytes: the limits hold when Set returns.
//     MaxItems is enforced after that by removing expired entries, then otter's coldest
//     entries (Coldest), reported as Size; when the item limit is what binds, each such
//     eviction also removes a slack of MaxItems/64 entries (at most 64), which amortises the
//     walk of Coldest (about 1 µs). Len and Bytes are exact counters kept by the listener.
//     Get is otter's lock-free read plus a key hash for the sampling; otter runs on a shared
//     coarse clock (10 ms) and the wrapper checks ExpiresAt precisely. An entry weighing more
//     than 4 GiB - 1 is ErrTooLarge. Removals that otter makes in the background (expiry
//     found by its timer wheel) are reported to OnEvict by the next operation. The ARC and
//     LRU engines are mutex-based like lru (ARC's target p and ghost lists in bytes).
//
// Every policy honours per-entry expiry: an expired entry is never returned, Get removes it
// when it finds it, and lru, lfu, fifo and ttl keep an expiry heap from which every Set,
// Delete, Resize and RemoveExpired removes what has expired (a victim chosen for size that has
// expired is reported as Expired). lru, lfu, fifo and ttl hold one mutex per cache for short
// critical sections; OnEvict runs after it is released.
func New(policy string, cfg Config) (Cache, error) {
	if cfg.MaxBytes <= 0 {
		return nil, fmt.Errorf("policy: MaxBytes must be positive, got %d", cfg.MaxBytes)
	}
	if cfg.MaxItems < 0 {
		return nil, fmt.Errorf("policy: MaxItems must not be negative, got %d", cfg.MaxItems)
	}
	switch policy {
	case LRU:
		return newLocal(policy, cfg, &lruOrder{}), nil
	case LFU:
		o := &lfuOrder{}
		return newLocal(policy, cfg, o), nil
	case FIFO:
		return newLocal(policy, cfg, &fifoOrder{}), nil
	case TTL:
		return newLocal(policy, cfg, &ttlOrder{}), nil
	case Adaptativo:
		return newSwitcher(cfg, false)
	}
	return nil, fmt.Errorf("%w %q (want one of lru, lfu, fifo, ttl, adaptativo)", ErrUnknownPolicy, policy)
}

// evicted is a removal waiting to be reported to OnEvict.
type evicted struct {
	e *Entry
	r Reason
}
