// Package tsdb stores time series as compressed blocks, Gorilla-style
// (Pelkonen et al., VLDB 2015), tuned for 1 Hz host metrics.
//
// An Encoder appends (timestamp in ms, float64) points of one series;
// Bytes returns the block at any time, Resume re-opens a stored block to
// keep appending, and a Decoder (or Decode) reads it back. Values are
// quantised: with precision p each value is stored as the integer
// round(v/p), so a decoded value is within p/2 of the original (up to a
// relative 2^-20 of p for float rounding). Values that cannot be stored
// that way (NaN, ±Inf, beyond the int64 range, or whose reconstruction
// would miss the bound) are escaped and kept bit for bit. Quantising is
// what makes noisy gauges cheap: XOR of raw floats costs ~8 B per sample
// on CPU percentages, the integer code below ~1.4 B.
//
// # Block layout
//
//	byte     0xA1: magic (high nibble 0xA) and format version 1
//	uvarint  number of points
//	8 bytes  precision, float64 bits, little-endian
//	varint   timestamp of the first point (0 in an empty block)
//	bits     the points, most significant bit first, zero-padded to a byte
//
// A decoder rejects anything after the last point but that padding. For
// each point the stream holds its timestamp (not for the first point,
// whose timestamp is in the header) and then its value:
//
//   - timestamp: the delta-of-delta dod = (tᵢ - tᵢ₋₁) - (tᵢ₋₁ - tᵢ₋₂), the
//     delta before the second point counting as 0, coded as an integer
//     below. Timestamps must not decrease; all arithmetic wraps, so any
//     int64 timestamps round-trip.
//   - value: the difference between the point's quantised integer and the
//     last quantised integer of the block (0 before the first), coded as
//     an integer below, or an escaped float64. An escaped value does not
//     change the "last quantised integer".
//
// # Integer code
//
// Timestamps and values each have their own coder: a backward-adaptive
// Rice code whose parameters are functions of the deltas already coded,
// so the encoder and decoder derive them alike and no side information
// is stored. The coder keeps
//
//   - sum/cnt, a running sum of recent magnitudes (zig-zagged, shifted)
//     and their count, both halved when cnt reaches 16 (LOCO-I). The
//     Rice parameter k is the smallest k with cnt·2^k ≥ sum, at most 56.
//   - zeros/seen, how many recent deltas were zero, halved at 32. When
//     zeros·(k+1) > seen, a zero flag precedes each delta: bit 0 means
//     the delta is 0 (1 bit in all), bit 1 means a nonzero delta follows
//     and its zig-zag value is coded minus one. Without the flag a zero
//     costs 1+k bits; with it a nonzero costs one bit more, so the flag is
//     on exactly when zeros are frequent enough to pay. With exact 1000 ms
//     steps every dod is 0 and costs one bit.
//   - shift (values only): how many low bits all recent nonzero deltas
//     have as zeros, so memory counted in kB or 4 KiB pages costs 10-12
//     bits less per sample. A delta with fewer trailing zeros than the
//     shift lowers it to its own count (and is escaped); 8 nonzero deltas
//     in a row with more trailing zeros raise it to the fewest among them.
//     sum is rescaled by 2^change whenever the shift changes.
//
// A delta d is written as m = zigzag(d >> shift) (minus one under the
// flag): q = m >> k ones, a zero, then the k low bits of m. When q would
// be 16 or more, or d has fewer trailing zeros than the shift, the code
// is an escape: 16 ones, then a type bit. Type 0 is an integer: 7 bits
// of length n (0-64) and the n bits of zigzag(d), unshifted. Type 1 (values
// only) is 64 raw bits of a float64. Under the flag an escape is preceded
// by flag bit 1 like any nonzero delta.
//
// After each integer delta d (escaped or not; escaped floats leave the
// statistics alone), in this order: seen++, zeros++ if d = 0, and both
// halved if seen reaches 32; if d ≠ 0 and the coder shifts, the shift is
// updated from d's trailing zeros (a delta with exactly shift trailing
// zeros ends the run) and sum is rescaled (right shift on a raise; left
// shift on a drop, saturating at 2^56); then sum += min(zigzag(d >> shift),
// 2^48) (0 when d = 0), cnt++, and both halved if cnt reaches 16. The
// coders start with sum = 0, cnt = 1, zeros = seen = 0, shift = 0.
//
// # Why this code
//
// On synthetic host metrics (size_test.go) the values cost, in bytes per
// sample: this code 0.97 on average (worst 2.26, network rates); Gorilla
// XOR of the quantised integer's bits 1.33 (worst 3.33); a zig-zag delta
// in fixed buckets (0 | 6 | 13 | 20 | 64 bits) 1.74, and 7.4 on memory
// bytes, whose per-second changes overflow the buckets. Timestamps at
// 1 s ± 5 ms cost 0.68 B, against 1.08 B with the paper's buckets (0.85 B
// with the best fixed bucket set tried). With the 17-byte header of a
// one-hour block, a day of 14 series averages 1.66 B per sample and the
// worst series 2.95 B, against a goal of 4.
package tsdb
