package repo

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sync"

	"github.com/painel-universal/painel/internal/backup/storage"
)

const (
	// readGap is the largest hole between two wanted chunks of a pack that
	// one range read spans rather than issuing two reads.
	readGap = 256 << 10
	// readMax caps one coalesced range read. Small enough that a big read (a verify's) is
	// several ranges, decoded by readWorkers goroutines at once: one range's frames are
	// decoded one after the other. (A restore asks for 4 MiB at a time, about one range, and
	// keeps two such reads going.)
	readMax = 2 << 20
	// readWorkers is how many range reads run at once.
	readWorkers = 4
)

// spanBufSize is the size of the recycled buffers range reads go into (spans up to readMax,
// plus the one frame that may end past it); spanBufMin the smallest range that uses one. A
// restore of the bench database read 86 MB in ranges under 1 MiB (its pages changed since the
// full backup, a frame or two at a time): read into fresh buffers, that was half the memory it
// allocated.
const (
	spanBufSize = readMax + 1<<20
	spanBufMin  = 64 << 10
)

// spanBufs keeps buffers between range reads (see bufList): enough for two reads of
// readWorkers ranges at once (a restore's).
var spanBufs = &bufList{max: 2 * readWorkers}

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

// loanBufs keeps the buffers loans gave back (a restore holds three batches of 4 MiB: the one
// it writes and two read ahead).
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

// readRange reads n bytes of the object name from off: into a recycled buffer when n suits one
// (returned as pooled, to give back to spanBufs once buf is no longer used), else into a buffer
// of its own. A short object gives the bytes there are (the caller reports the length).
func (r *Repo) readRange(ctx context.Context, name string, off, n int64) (buf, pooled []byte, err error) {
	rc, err := r.be.GetRange(ctx, name, off, n)
	if err != nil {
		return nil, nil, err
	}
	if n < spanBufMin || n > spanBufSize {
		buf, err = readAll(rc, n)
		return buf, nil, err
	}
	pooled = spanBufs.get(spanBufSize)
	buf, err = readFullInto(rc, pooled[:n])
	return buf, pooled, err
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
	_, err := r.readChunks(ctx, ids, loan, func(id ID, _ []int32, _ string, data []byte, err error) error {
		if err != nil {
			return err
		}
		return fn(id, data)
	})
	return err
}

// GetManyAt is GetManyLoan by position: fn(i, data) is called for every index i of ids, an ID
// that appears several times once per index, with the same data (read and checked once). A
// restore puts each chunk in its place without looking it up by ID.
func (r *Repo) GetManyAt(ctx context.Context, ids []ID, loan *Loan, fn func(i int, data []byte) error) error {
	_, err := r.readChunks(ctx, ids, loan, func(_ ID, pos []int32, _ string, data []byte, err error) error {
		if err != nil {
			return err
		}
		for _, i := range pos {
			if err := fn(int(i), data); err != nil {
				return err
			}
		}
		return nil
	})
	return err
}

// chunkRead is one chunk to read, located, and the index in the caller's list it was asked at.
type chunkRead struct {
	id  ID
	loc blobLoc
	pos int32
}

// readStats counts what readChunks read.
type readStats struct {
	packs int
	bytes int64
}

// readChunks locates, reads and decodes ids, calling fn (serialised) once per distinct ID with
// the indexes of ids it is at (ascending), its pack's name and its data or error; fn's error
// stops it and is returned. Errors of the backend other than a missing object are returned as
// is.
func (r *Repo) readChunks(ctx context.Context, ids []ID, loan *Loan, fn func(id ID, pos []int32, pack string, data []byte, err error) error) (readStats, error) {
	var st readStats
	if len(ids) > math.MaxInt32 {
		return st, fmt.Errorf("repo: %d chunks asked at once", len(ids))
	}
	// Located chunks are sorted by pack and place (a chunk asked twice lands next to itself)
	// rather than grouped through maps: a restore asks for every chunk of the file once.
	reads := make([]chunkRead, 0, len(ids))
	type early struct {
		id     ID
		pos    []int32
		stored []byte
		e      packEntry
		err    error
	}
	var (
		direct   []early
		directAt map[ID]int
		packIDs  []ID
	)
	r.mu.Lock()
	for i, id := range ids {
		loc, p, err := r.locateLocked(id)
		if err == nil && p.b == nil {
			reads = append(reads, chunkRead{id: id, loc: loc, pos: int32(i)})
			continue
		}
		// In the pack being built, or nowhere (rare): grouped by ID here.
		if k, dup := directAt[id]; dup {
			direct[k].pos = append(direct[k].pos, int32(i))
			continue
		}
		if directAt == nil {
			directAt = map[ID]int{}
		}
		directAt[id] = len(direct)
		d := early{id: id, pos: []int32{int32(i)}, err: err}
		if err == nil {
			d.stored, d.e = p.b.blob(p.e), p.e
		}
		direct = append(direct, d)
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
			data, err = r.decodeBuilding(d.id, d.stored, d.e)
		}
		if ferr := fn(d.id, d.pos, "", data, err); ferr != nil {
			return st, ferr
		}
	}

	slices.SortFunc(reads, func(a, b chunkRead) int {
		return cmp.Or(cmp.Compare(a.loc.pack, b.loc.pack), cmp.Compare(a.loc.off, b.loc.off),
			cmp.Compare(a.loc.inner, b.loc.inner), bytes.Compare(a.id[:], b.id[:]), cmp.Compare(a.pos, b.pos))
	})
	// The positions of reads, in the same order: a chunk's are pos[first:last+1].
	pos := make([]int32, len(reads))
	for i, c := range reads {
		pos[i] = c.pos
	}
	// Coalesce each pack's chunks into ranges; a span's chunks are reads[first:end], one
	// delivery per run of equal IDs.
	type span struct {
		pack        ID
		start, end  int64
		first, last int
	}
	var spans []span
	for i := 0; i < len(reads); i++ {
		c := reads[i]
		s, e := int64(c.loc.off), int64(c.loc.off)+int64(c.loc.length)
		if n := len(spans); n > 0 && i > 0 && reads[i-1].loc.pack == c.loc.pack {
			cur := &spans[n-1]
			if s-cur.end <= readGap && e-cur.start <= readMax && s >= cur.start {
				cur.end = max(cur.end, e)
				cur.last = i + 1
				continue
			}
		}
		if i == 0 || reads[i-1].loc.pack != c.loc.pack {
			st.packs++
		}
		spans = append(spans, span{pack: packIDs[c.loc.pack], start: s, end: e, first: i, last: i + 1})
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		fnMu    sync.Mutex
		stopErr error
	)
	deliver := func(id ID, at []int32, pack string, data []byte, err error) {
		fnMu.Lock()
		defer fnMu.Unlock()
		if stopErr != nil {
			return
		}
		if ferr := fn(id, at, pack, data, err); ferr != nil {
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
		buf, pooled, err := r.readRange(ctx, name, sp.start, sp.end-sp.start)
		if pooled != nil {
			defer spanBufs.put(pooled)
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
		for k := sp.first; k < sp.last; {
			c := reads[k]
			n := k + 1
			for n < sp.last && reads[n].id == c.id {
				n++
			}
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
				if cerr == nil && pooled != nil && c.loc.flags&flagZstd == 0 && c.loc.flags&flagEncrypted == 0 {
					data = bytes.Clone(data) // it is in the pooled read buffer
				}
				if cerr != nil {
					cerr = corruptf("chunk %s in %s: %v", c.id, name, cerr)
				}
			}
			deliver(c.id, pos[k:n], name, data, cerr)
			k = n
		}
	})
	if stopErr == nil && ctx.Err() != nil {
		return st, ctx.Err()
	}
	return st, stopErr
}
