package backup

import (
	"context"
	"crypto/sha256"
	"os"
	"sync/atomic"
)

// writtenHash is the SHA-256 of a file taken while the file is written, from the file itself:
// a goroutine reads back (from the page cache) what the writer says it has written so far,
// up to hashLag behind it. The sum is then that of the bytes the file holds, not of those
// meant for it (a wrong offset in the writing fails it), and the hashing is out of the
// writer's way: once the last byte is written, a SQLite file's integrity check starts while
// the hash catches up on another core.
type writtenHash struct {
	f       *os.File
	lag     int64        // hashLag when started
	written atomic.Int64 // bytes from the start that the writer has written
	final   atomic.Bool  // written will not grow any more
	wake    chan struct{}
	done    chan struct{} // closed when sum or err is set
	sum     [sha256.Size]byte
	err     error
}

// hashWritten starts hashing f as it is written; the writer reports its progress with
// advance. The hashing stops when ctx ends (result is then ctx's error).
func hashWritten(ctx context.Context, f *os.File) *writtenHash {
	w := &writtenHash{f: f, lag: hashLag, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go w.run(ctx)
	return w
}

// hashReadBuffer is how much the hash reads back at a time.
const hashReadBuffer = 1 << 20

// hashLag is how far the hash may trail the writer: it starts reading only once that much
// is written and not hashed, or the writing is over. A file up to that size is so hashed
// after the writing, beside its integrity check, which keeps one core busy for a while
// and leaves the other mostly idle: on the bench database (421 MB), restores took a median
// 2.19 s with the hash after the writing, 2.40 s with the hash following the writer (11
// alternations), where it took CPU from the decoding and writing. A bigger file is hashed
// that far behind the writer, its pages read back while the page cache still holds them:
// an eighth of the memory, between 64 MiB and 1 GiB.
var hashLag = min(max(memoryTotal()/8, 64<<20), 1<<30)

// advance tells the hash that the file's first n bytes are written; with last, that there
// will be no more.
func (w *writtenHash) advance(n int64, last bool) {
	w.written.Store(n)
	if last {
		w.final.Store(true)
	}
	select {
	case w.wake <- struct{}{}:
	default: // a wake-up is already pending: it will see n
	}
}

func (w *writtenHash) run(ctx context.Context) {
	defer close(w.done)
	h := sha256.New()
	buf := make([]byte, hashReadBuffer)
	var at int64
	for {
		final := w.final.Load() // before written: once final, written is the last count
		n := w.written.Load()
		if !final && n-at < w.lag {
			n = at // not yet: see hashLag
		}
		for at < n {
			k := int(min(n-at, int64(len(buf))))
			if _, err := w.f.ReadAt(buf[:k], at); err != nil {
				w.err = err
				return
			}
			h.Write(buf[:k])
			at += int64(k)
			if ctx.Err() != nil {
				w.err = ctx.Err()
				return
			}
		}
		if final {
			h.Sum(w.sum[:0])
			return
		}
		select {
		case <-w.wake:
		case <-ctx.Done():
			w.err = ctx.Err()
			return
		}
	}
}

// result waits for the hash of the whole file.
func (w *writtenHash) result() ([sha256.Size]byte, error) {
	<-w.done
	return w.sum, w.err
}
