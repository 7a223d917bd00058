// Package policy implements the eviction policies of the cache areas: bounded, concurrency-safe
// caches of [Entry] values weighed in bytes ([Entry.Weight]), one per area.
//
// [New] returns a [Cache] under one of five policies: "lru", "lfu" (O(1), with aging), "fifo",
// "ttl" (soonest expiry first) and "adaptativo" (W-TinyLFU, ARC or LRU, chosen and switched at
// run time by miniature simulations on a sample of the keys). Its
// documentation describes each policy and the choices made for them.
//
// # Guarantees
//
// For every policy:
//   - after any operation returns, Bytes() <= MaxBytes and, with MaxItems > 0,
//     Len() <= MaxItems; Set returns [ErrTooLarge] for an entry heavier than MaxBytes;
//   - no operation returns an entry at or after its ExpiresAt; Get removes such an entry;
//   - every entry that Set accepts is reported exactly once to [Config.OnEvict] when it leaves,
//     with its [Reason]: Size, Expired, Deleted, Cleared or Replaced; OnEvict runs with no
//     internal lock held;
//   - Get allocates nothing.
//
// lru, lfu, fifo and ttl share one implementation (a map, an expiry min-heap and the policy's
// order, under one mutex; removals are collected under the lock and reported after it). The
// adaptive policy (switch.go) keeps its live engine behind an atomic pointer; its W-TinyLFU
// engine wraps otter, whose asynchronous maintenance it forces on the writer when the
// cache is over its limits; see [New] and the comment on the adaptive type for how it keeps the
// guarantees without a lock on the read path.
package policy
