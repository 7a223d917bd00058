package repo

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/painel-universal/painel/internal/backup/storage"
)

// Limits of ReadOrdered: how many frames it decodes ahead of the one fn is at, and how many
// chunks, or bytes, one call of fn gets at most.
const (
	orderedAhead     = 8
	orderedRunChunks = 1024
	orderedRunBytes  = 4 << 20
)

// ReadOrdered reads the chunks ids and calls fn with them in order, in runs: fn(first, data)
// gets the data of ids[first:first+len(data)], valid until fn returns. Each frame is read and
// decoded once, however many of the chunks it holds are asked and wherever they are in ids
// (the pages a backup changed sit in frames that span several runs of a file), by up to
// readWorkers goroutines, a few frames ahead of fn; every chunk is checked as by Get, each
// distinct one once. It is what a restore of a big file needs: the file's bytes in order,
// with little memory, from frames decoded on all cores.
//
// ReadOrdered stops at the first error: fn's, or a chunk's (wrapping ErrCorrupt or
// ErrNotFound), returned before fn has seen any chunk of the damaged frame.
func (r *Repo) ReadOrdered(ctx context.Context, ids []ID, fn func(first int, data [][]byte) error) error {
	return r.readOrdered(ctx, ids, true, fn)
}

// ReadOrderedUnchecked is ReadOrdered for a caller that knows the SHA-256 of the chunks' data
// put end to end (a file's, from its manifest) and checks that instead: the chunks are not
// hashed one by one. A file's hash covers every byte of every chunk in its place, so the
// check is as strong as the chunks' own (and stronger: a wrong chunk list fails it too), for
// one pass of SHA-256 where the caller likes (a restore hashes the file it wrote, read back
// as it is written) instead of one more on the workers'. When the sum is not the one
// expected, the caller calls SumMismatch, which names the damaged chunk.
//
// The price: fn may have seen damaged data, so what fn writes must stay tentative until the
// sum is checked (a restore writes to a temporary file). Each frame's bounds are still
// checked before fn gets a chunk of it, and a compressed or encrypted frame that fails to
// decode is an error as in ReadOrdered.
func (r *Repo) ReadOrderedUnchecked(ctx context.Context, ids []ID, fn func(first int, data [][]byte) error) error {
	return r.readOrdered(ctx, ids, false, fn)
}

// SumMismatch is the error for chunks ids whose data end to end hashed to got instead of
// want: it reads them again, each one checked, and returns the error naming the first
// damaged one, or, if every chunk is intact (the list itself is wrong), one saying so. It
// always wraps ErrCorrupt unless ctx ends or the storage fails first.
func (r *Repo) SumMismatch(ctx context.Context, ids []ID, got, want [32]byte) error {
	if err := r.readOrdered(ctx, ids, true, func(int, [][]byte) error { return nil }); err != nil {
		return err
	}
	return corruptf("the SHA-256 of the %d chunks end to end is %x, want %x", len(ids), got, want)
}

// readOrdered is ReadOrdered; with check false the chunks' SHA-256 is left to the caller
// (ReadOrderedUnchecked).
func (r *Repo) readOrdered(ctx context.Context, ids []ID, check bool, fn func(first int, data [][]byte) error) error {
	plan, err := r.planOrdered(ids)
	if err != nil {
		return err
	}
	plan.check = check
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Frames are handed to the workers in the order fn first needs them, each once a token is
	// free; fn's side gives a frame's token back when it reaches the frame, so at most
	// orderedAhead frames are decoded before they are needed.
	tokens := make(chan struct{}, orderedAhead)
	jobs := make(chan *orderedFrame)
	var wg sync.WaitGroup
	for range min(readWorkers, len(plan.frames)) {
		wg.Go(func() {
			for fr := range jobs {
				fr.decode(ctx, r, ids, plan)
				close(fr.ready)
			}
		})
	}
	go func() {
		defer close(jobs)
		for _, fr := range plan.frames {
			select {
			case tokens <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- fr:
			case <-ctx.Done():
				return
			}
		}
	}()
	defer func() {
		cancel()
		wg.Wait()
		for _, fr := range plan.frames {
			fr.release()
		}
	}()

	var (
		run     [][]byte
		runSize int
		first   int
		active  []*orderedFrame // reached, not yet retired
	)
	flush := func(next int) error {
		if len(run) > 0 {
			if err := fn(first, run); err != nil {
				return err
			}
		}
		run, runSize, first = run[:0], 0, next
		// Frames whose chunks were all delivered go back to the pools.
		kept := active[:0]
		for _, fr := range active {
			if fr.last < next {
				fr.release()
			} else {
				kept = append(kept, fr)
			}
		}
		clear(active[len(kept):])
		active = kept
		return nil
	}
	for i := range ids {
		var data []byte
		if f := plan.frameOf[i]; f < 0 {
			d := plan.direct[i]
			if d.err != nil {
				return d.err
			}
			data = d.data
		} else {
			fr := plan.frames[f]
			if fr.first == i {
				select {
				case <-fr.ready:
				case <-ctx.Done():
					return ctx.Err()
				}
				<-tokens
				if fr.err != nil {
					return fr.err
				}
				active = append(active, fr)
			}
			at := plan.inner[i]
			data = fr.frame[at : at+plan.plain[i] : at+plan.plain[i]]
		}
		if len(run) == orderedRunChunks || len(run) > 0 && runSize+len(data) > orderedRunBytes {
			if err := flush(i); err != nil {
				return err
			}
		}
		run = append(run, data)
		runSize += len(data)
	}
	return flush(len(ids))
}

// orderedPlan is where each chunk of a ReadOrdered is: in frames[frameOf[i]], plain[i] bytes
// from inner[i]; or, where frameOf[i] is -1, in direct[i] (a chunk of the pack being built).
type orderedPlan struct {
	frames       []*orderedFrame
	frameOf      []int32
	inner, plain []uint32
	direct       map[int]directChunk
	check        bool // each chunk's SHA-256 (else only each frame's bounds)
}

// directChunk is a chunk ReadOrdered does not read from a pack: its data, or why it has none.
type directChunk struct {
	data []byte
	err  error
}

// orderedFrame is one frame ReadOrdered decodes: where it is, at which indexes of ids its
// chunks are wanted, and (once ready is closed) the decoded frame, every
// wanted chunk in it checked, or the error.
type orderedFrame struct {
	pack        ID
	loc         blobLoc // off, length and flags of the frame
	first, last int     // the first and last index of ids in it
	wants       []int32 // the indexes of ids in it

	ready  chan struct{}
	frame  []byte
	err    error
	stored []byte // the pooled read buffer, kept while frame points into it
	loan   Loan
	once   sync.Once
}

// planOrdered locates every chunk of ids and groups them by frame, in the order of their first
// use. Chunks in the pack being built are decoded here (they are in memory).
func (r *Repo) planOrdered(ids []ID) (*orderedPlan, error) {
	type frameKey struct{ pack, off uint32 }
	n := len(ids)
	plan := &orderedPlan{frameOf: make([]int32, n), inner: make([]uint32, n), plain: make([]uint32, n)}
	// Each frame's chunks come together (a frame is a run of neighbouring chunks of a file):
	// the frame of the previous chunk is tried before the map.
	byKey := map[frameKey]int32{}
	last := int32(-1)
	type early struct {
		i      int
		id     ID
		stored []byte
		e      packEntry
	}
	var pendingBlobs []early
	r.mu.Lock()
	for i, id := range ids {
		loc, p, err := r.locateLocked(id)
		if err != nil {
			r.mu.Unlock()
			return nil, err
		}
		if p.b != nil {
			pendingBlobs = append(pendingBlobs, early{i: i, id: id, stored: p.b.blob(p.e), e: p.e})
			plan.frameOf[i] = -1
			continue
		}
		f := last
		if f < 0 || plan.frames[f].loc.pack != loc.pack || plan.frames[f].loc.off != loc.off {
			k := frameKey{loc.pack, loc.off}
			var seen bool
			if f, seen = byKey[k]; !seen {
				f = int32(len(plan.frames))
				byKey[k] = f
				plan.frames = append(plan.frames, &orderedFrame{pack: r.packs[loc.pack].id, loc: loc, first: i,
					ready: make(chan struct{})})
			}
			last = f
		}
		fr := plan.frames[f]
		fr.last = i
		fr.wants = append(fr.wants, int32(i))
		plan.frameOf[i], plan.inner[i], plan.plain[i] = f, loc.inner, loc.plain
	}
	r.mu.Unlock()
	for _, p := range pendingBlobs {
		data, err := r.decodeBuilding(p.id, p.stored, p.e)
		if plan.direct == nil {
			plan.direct = map[int]directChunk{}
		}
		plan.direct[p.i] = directChunk{data: data, err: err}
	}
	return plan, nil
}

// decode reads the frame's stored bytes, decodes them and checks every wanted chunk (with
// plan.check, its SHA-256; else that it lies within the frame).
func (fr *orderedFrame) decode(ctx context.Context, r *Repo, ids []ID, plan *orderedPlan) {
	name := packName(fr.pack)
	n := int64(fr.loc.length)
	buf, pooled, err := r.readRange(ctx, name, int64(fr.loc.off), n)
	fr.stored = pooled
	switch {
	case errors.Is(err, storage.ErrNotExist):
		fr.err = corruptf("chunk %s: pack %s is missing", ids[fr.first], name)
		return
	case errors.Is(err, storage.ErrInvalidRange) || err == nil && int64(len(buf)) < n:
		fr.err = corruptf("chunk %s: pack %s is shorter than the index says", ids[fr.first], name)
		return
	case err != nil:
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			err = ctx.Err()
		}
		fr.err = fmt.Errorf("repo: reading %s: %w", name, err)
		return
	}
	frame, err := r.c.decodeFrame(buf, fr.loc.flags, &fr.loan, true)
	if err != nil {
		fr.err = corruptf("chunk %s in %s: %v", ids[fr.first], name, err)
		return
	}
	if fr.stored != nil && fr.loc.flags&flagZstd != 0 {
		// The frame was decompressed out of the read buffer: give that back now.
		spanBufs.put(fr.stored)
		fr.stored = nil
	}
	if !plan.check {
		for _, i := range fr.wants {
			if end := uint64(plan.inner[i]) + uint64(plan.plain[i]); end > uint64(len(frame)) {
				fr.err = corruptf("chunk %s in %s: at [%d,%d) of its frame, which has %d bytes",
					ids[i], name, plan.inner[i], end, len(frame))
				return
			}
		}
		fr.frame = frame
		fr.wants = nil
		return
	}
	// Every wanted chunk is checked once: sorted by place, a chunk wanted at several indexes
	// comes up next to itself.
	entry := func(i int32) packEntry {
		e := fr.loc.entry(ids[i])
		e.inner, e.plain = plan.inner[i], plan.plain[i]
		return e
	}
	slices.SortFunc(fr.wants, func(a, b int32) int {
		return cmp.Or(cmp.Compare(plan.inner[a], plan.inner[b]), bytes.Compare(ids[a][:], ids[b][:]))
	})
	for w, i := range fr.wants {
		e := entry(i)
		if w > 0 && e == entry(fr.wants[w-1]) {
			continue
		}
		if _, err := extract(frame, e); err != nil {
			fr.err = corruptf("chunk %s in %s: %v", e.id, name, err)
			return
		}
	}
	fr.frame = frame
	fr.wants = nil
}

// release gives the frame's buffers back; its chunks must not be used after. Safe to call
// more than once.
func (fr *orderedFrame) release() {
	fr.once.Do(func() {
		fr.loan.Release()
		if fr.stored != nil {
			spanBufs.put(fr.stored)
			fr.stored = nil
		}
		fr.frame = nil
	})
}
