package repo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/painel-universal/painel/internal/backup/storage"
)

const (
	// readGap is the largest hole between two wanted chunks of a pack that
	// one range read spans rather than issuing two reads.
	readGap = 256 << 10
	// readMax caps one coalesced range read. Small enough that a restore's batch of 16 MiB
	// is several ranges, decoded by readWorkers goroutines at once (with 16 MiB ranges a
	// database's restore waited 0.8 s for one goroutine to decode each batch; 0.55 s now).
	readMax = 2 << 20
	// readWorkers is how many range reads run at once.
	readWorkers = 4
)

// spanBufSize is the size of the recycled buffers big range reads go into (spans up to readMax,
// plus the one frame that may end past it); spanBufMin the smallest range that uses one.
const (
	spanBufSize = readMax + 1<<20
	spanBufMin  = 1 << 20
)

// spanBufs keeps up to readWorkers buffers between big range reads (see bufList).
var spanBufs = &bufList{max: readWorkers}

// Loan lends buffers to decode frames into (see GetManyLoan). Safe for concurrent use.
type Loan struct {
	mu   sync.Mutex
	lent [][]byte
}

// loanBufSize is the capacity of a lent buffer: a frame of DefaultFrameSize plus the chunk that
// ends it and the decoder's slack (loanSlack); frames smaller than loanMin, or bigger than one
// fits, get buffers of their own, of their size.
const (
	loanBufSize = DefaultFrameSize + 1<<20
	loanSlack   = 64 << 10
	loanMin     = 256 << 10
)

// loanBufs keeps the buffers loans gave back (a restore holds two batches of 16 MiB).
var loanBufs = &bufList{max: 40}

// buffer lends an empty buffer (nil for a nil Loan).
func (l *Loan) buffer() []byte {
	if l == nil {
		return nil
	}
	b := loanBufs.get(loanBufSize)
	l.mu.Lock()
	l.lent = append(l.lent, b)
	l.mu.Unlock()
	return b
}

// Release gives the lent buffers back: the data read with the loan must not be used after.
// Releasing a nil Loan does nothing.
func (l *Loan) Release() {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range l.lent {
		loanBufs.put(b)
	}
	l.lent = nil
}

// readFullInto reads exactly len(buf) bytes from rc into buf and closes rc; a short object gives
// the bytes read (the caller reports the length), a longer one an error.
func readFullInto(rc io.ReadCloser, buf []byte) ([]byte, error) {
	defer rc.Close()
	n, err := io.ReadFull(rc, buf)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		return buf[:n], nil
	}
	if err != nil {
		return nil, err
	}
	var one [1]byte
	if m, _ := rc.Read(one[:]); m > 0 {
		return nil, errors.New("the object is longer than the range asked for")
	}
	return buf, nil
}

// GetMany reads the chunks ids and calls fn once per distinct ID with its
// data (fn may keep it). The order suits the storage: grouped by pack, by
// offset within a pack; nearby chunks of a pack are fetched with one range
// read, several reads run in parallel, and fn is called from one goroutine
// at a time. Every chunk is checked as by Get. GetMany stops at the first
// error: fn's, or a chunk's (wrapping ErrCorrupt or ErrNotFound). For a
// restore of many small chunks it is much faster than one Get per chunk.
func (r *Repo) GetMany(ctx context.Context, ids []ID, fn func(id ID, data []byte) error) error {
	return r.GetManyLoan(ctx, ids, nil, fn)
}

// GetManyLoan is GetMany with the decoded frames in buffers loan lends (when not nil): the data
// fn gets stays valid until loan.Release, after which the buffers serve later reads instead of
// being allocated and zeroed again (a restore decodes its whole size).
func (r *Repo) GetManyLoan(ctx context.Context, ids []ID, loan *Loan, fn func(id ID, data []byte) error) error {
	_, err := r.readChunks(ctx, ids, loan, func(id ID, _ string, data []byte, err error) error {
		if err != nil {
			return err
		}
		return fn(id, data)
	})
	return err
}

// chunkRead is one chunk to read, located.
type chunkRead struct {
	id  ID
	loc blobLoc
}

// readStats counts what readChunks read.
type readStats struct {
	packs int
	bytes int64
}

// readChunks locates, reads and decodes ids, calling fn (serialised) with
// each chunk's pack name and data or error; fn's error stops it and is
// returned. Errors of the backend other than a missing object are returned
// as is.
func (r *Repo) readChunks(ctx context.Context, ids []ID, loan *Loan, fn func(id ID, pack string, data []byte, err error) error) (readStats, error) {
	var st readStats
	seen := make(map[ID]struct{}, len(ids))
	byPack := map[uint32][]chunkRead{}
	var packIDs []ID
	type early struct {
		id     ID
		stored []byte
		e      packEntry
		err    error
	}
	var direct []early
	r.mu.Lock()
	for _, id := range ids {
		if _, dup := seen[id]; dup {
			continue
		}
		seen[id] = struct{}{}
		loc, ok := r.idx[id]
		if !ok {
			if p, pok := r.pending[id]; pok {
				if p.b != nil {
					direct = append(direct, early{id: id, stored: p.b.blob(p.e), e: p.e})
					continue
				}
				loc, ok = locOf(p.pack, p.e), true
			}
		}
		if !ok {
			var err error
			if len(r.loadProblems) > 0 {
				err = corruptf("chunk %s is in no readable index object, and some index objects are damaged", id)
			} else {
				err = fmt.Errorf("%w: chunk %s", ErrNotFound, id)
			}
			direct = append(direct, early{id: id, err: err})
			continue
		}
		byPack[loc.pack] = append(byPack[loc.pack], chunkRead{id: id, loc: loc})
	}
	packIDs = make([]ID, len(r.packs))
	for i, p := range r.packs {
		packIDs[i] = p.id
	}
	r.mu.Unlock()

	for _, d := range direct {
		err := d.err
		var data []byte
		if err == nil {
			data, err = r.c.decodeBlob(d.stored, d.e)
			if err != nil {
				err = corruptf("chunk %s in the pack being written: %v", d.id, err)
			}
		}
		if ferr := fn(d.id, "", data, err); ferr != nil {
			return st, ferr
		}
	}

	// Coalesce each pack's chunks into ranges.
	type span struct {
		pack       ID
		start, end int64
		chunks     []chunkRead
	}
	var spans []span
	nums := make([]uint32, 0, len(byPack))
	for n := range byPack {
		nums = append(nums, n)
	}
	sort.Slice(nums, func(i, j int) bool { return nums[i] < nums[j] })
	for _, n := range nums {
		cs := byPack[n]
		sort.Slice(cs, func(i, j int) bool { return cs[i].loc.off < cs[j].loc.off })
		var cur *span
		for _, c := range cs {
			s, e := int64(c.loc.off), int64(c.loc.off)+int64(c.loc.length)
			if cur != nil && s-cur.end <= readGap && e-cur.start <= readMax && s >= cur.start {
				cur.end = max(cur.end, e)
				cur.chunks = append(cur.chunks, c)
				continue
			}
			spans = append(spans, span{pack: packIDs[n], start: s, end: e, chunks: []chunkRead{c}})
			cur = &spans[len(spans)-1]
		}
	}
	st.packs = len(nums)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		fnMu    sync.Mutex
		stopErr error
	)
	deliver := func(id ID, pack string, data []byte, err error) {
		fnMu.Lock()
		defer fnMu.Unlock()
		if stopErr != nil {
			return
		}
		if ferr := fn(id, pack, data, err); ferr != nil {
			stopErr = ferr
			cancel()
		}
	}
	var statMu sync.Mutex
	parallel(len(spans), readWorkers, func(i int) {
		sp := spans[i]
		name := packName(sp.pack)
		if ctx.Err() != nil {
			return
		}
		rc, err := r.be.GetRange(ctx, name, sp.start, sp.end-sp.start)
		var buf []byte
		// Big ranges (a restore's) go into recycled buffers; small ones are read exactly.
		pooled := sp.end-sp.start >= spanBufMin && sp.end-sp.start <= spanBufSize
		if err == nil {
			if pooled {
				b := spanBufs.get(spanBufSize)
				defer spanBufs.put(b)
				buf, err = readFullInto(rc, b[:sp.end-sp.start])
			} else {
				buf, err = readAll(rc, sp.end-sp.start)
			}
		}
		if err != nil && !errors.Is(err, storage.ErrNotExist) && !errors.Is(err, storage.ErrInvalidRange) {
			fnMu.Lock()
			if stopErr == nil {
				if ctx.Err() != nil && errors.Is(err, context.Canceled) {
					err = ctx.Err()
				}
				stopErr = fmt.Errorf("repo: reading %s: %w", name, err)
				cancel()
			}
			fnMu.Unlock()
			return
		}
		statMu.Lock()
		st.bytes += int64(len(buf))
		statMu.Unlock()
		memo := frameMemo{c: r.c, loan: loan}
		for _, c := range sp.chunks {
			var data []byte
			var cerr error
			o := int64(c.loc.off) - sp.start
			switch {
			case errors.Is(err, storage.ErrNotExist):
				cerr = corruptf("chunk %s: pack %s is missing", c.id, name)
			case err != nil || o+int64(c.loc.length) > int64(len(buf)):
				cerr = corruptf("chunk %s: pack %s is shorter than the index says", c.id, name)
			default:
				data, cerr = memo.blob(buf[o:o+int64(c.loc.length)], c.loc.entry(c.id))
				if cerr == nil && pooled && c.loc.flags&flagZstd == 0 && c.loc.flags&flagEncrypted == 0 {
					data = bytes.Clone(data) // it is in the pooled read buffer
				}
				if cerr != nil {
					cerr = corruptf("chunk %s in %s: %v", c.id, name, cerr)
				}
			}
			deliver(c.id, name, data, cerr)
		}
	})
	if stopErr == nil && ctx.Err() != nil {
		return st, ctx.Err()
	}
	return st, stopErr
}
