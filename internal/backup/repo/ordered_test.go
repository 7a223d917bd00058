package repo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// orderedFixture stores a "file" of pages the way a backup chain does: a full backup in big
// frames, then a scattered tenth of the pages changed, stored in frames of their own (each
// spanning many runs of the file), then a few more changed. It returns the chunk list of the
// last state and every page's data. Random pages in its middle sit in an uncompressed frame.
func orderedFixture(t *testing.T, r *Repo) ([]ID, map[ID][]byte) {
	t.Helper()
	ctx := context.Background()
	const pages = 3000
	data := map[ID][]byte{}
	file := make([][]byte, pages)
	for i := range file {
		file[i] = textBytes(uint64(i), 4096)
		if i%7 == 3 {
			file[i] = make([]byte, 4096) // the same zero page, many times
		}
	}
	store := func(pages [][]byte, frame int) {
		b := r.NewBatch(ctx, frame)
		for _, p := range pages {
			id, err := b.Add(p)
			if err != nil {
				t.Fatal(err)
			}
			data[id] = p
		}
		if _, err := b.Close(); err != nil {
			t.Fatal(err)
		}
		mustFlush(t, r)
	}
	store(file, 512<<10)
	var changed [][]byte
	for i := 5; i < pages; i += 10 {
		file[i] = textBytes(uint64(100000+i), 4096)
		changed = append(changed, file[i])
	}
	store(changed, 256<<10) // 64 changed pages a frame: each frame spans 640 pages of the file
	changed = changed[:0]
	for i := 1000; i < 1020; i++ {
		file[i] = textBytes(uint64(200000+i), 4096)
		changed = append(changed, file[i])
	}
	store(changed, 0)
	// Random pages at the end, in frames of their own that do not compress: stored as they
	// are (encrypted or not).
	rng := rand.New(rand.NewPCG(7, 7))
	var noise [][]byte
	for range 40 {
		p := make([]byte, 4096)
		for k := range p {
			p[k] = byte(rng.Uint32())
		}
		noise = append(noise, p)
	}
	store(noise, 256<<10) // one frame of 160 KiB: a pooled read buffer holds it
	file = slices.Concat(file[:1500], noise, file[1500:])
	ids := make([]ID, len(file))
	for i, p := range file {
		ids[i] = Hash(p)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if loc := r.testLoc(ids[1500]); loc.flags&flagZstd != 0 || loc.length < spanBufMin {
		t.Fatal("the random pages were compressed: the fixture misses uncompressed frames")
	}
	return ids, data
}

// TestReadOrdered: the chunks come in order, in runs within the limits, each index once and
// right; every frame is decoded once although the changed pages' frames span many runs.
func TestReadOrdered(t *testing.T) {
	modes(t, func(t *testing.T, pass string) {
		ctx := context.Background()
		r := mustInit(t, newMem(), Options{Passphrase: pass, PackSize: 2 << 20})
		ids, data := orderedFixture(t, r)
		// One more page, Put but not flushed: in the pack being built.
		extra := textBytes(424242, 4096)
		xid, _, err := r.Put(ctx, extra)
		if err != nil {
			t.Fatal(err)
		}
		data[xid] = extra
		ids = slices.Insert(ids, 1000, xid)

		plan, err := r.planOrdered(ids)
		if err != nil {
			t.Fatal(err)
		}
		frames := map[[2]uint32]bool{}
		r.mu.Lock()
		for _, id := range ids {
			if loc, ok := r.testLocOK(id); ok {
				frames[[2]uint32{loc.pack, loc.off}] = true
			}
		}
		r.mu.Unlock()
		if len(plan.frames) != len(frames) {
			t.Fatalf("the plan decodes %d frames, the chunks are in %d", len(plan.frames), len(frames))
		}

		next, runs := 0, 0
		err = r.ReadOrdered(ctx, ids, func(first int, got [][]byte) error {
			if first != next {
				t.Fatalf("run starts at %d, want %d", first, next)
			}
			size := 0
			for k, d := range got {
				if !bytes.Equal(d, data[ids[first+k]]) {
					t.Fatalf("index %d: wrong data", first+k)
				}
				size += len(d)
			}
			if len(got) == 0 || len(got) > orderedRunChunks || size > orderedRunBytes {
				t.Fatalf("run of %d chunks, %d bytes", len(got), size)
			}
			next += len(got)
			runs++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if next != len(ids) || runs < len(ids)*4096/orderedRunBytes {
			t.Fatalf("%d chunks in %d runs, want %d chunks", next, runs, len(ids))
		}
		// ReadOrderedUnchecked, the whole checked as a restore does: the same runs, checked as a whole against the data's SHA-256.
		h := sha256.New()
		for _, id := range ids {
			h.Write(data[id])
		}
		var sum [32]byte
		h.Sum(sum[:0])
		var got bytes.Buffer
		if err := r.readOrderedSum(ctx, ids, sum, func(first int, run [][]byte) error {
			if first != got.Len()/4096 {
				t.Fatalf("readOrderedSum: run starts at %d, want %d", first, got.Len()/4096)
			}
			for _, d := range run {
				got.Write(d)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if sha256.Sum256(got.Bytes()) != sum {
			t.Fatal("readOrderedSum: fn got other data")
		}
		// Nothing asked: fn is not called.
		if err := r.ReadOrdered(ctx, nil, func(int, [][]byte) error { t.Fatal("fn called"); return nil }); err != nil {
			t.Fatal(err)
		}
	})
}

// TestReadOrderedErrors: a chunk stored nowhere fails before fn sees anything; fn's error
// and a cancelled context stop the read; a damaged frame fails it, naming the chunk, after fn
// got every run before it.
func TestReadOrderedErrors(t *testing.T) {
	ctx := context.Background()
	m := newMem()
	r := mustInit(t, m, Options{PackSize: 2 << 20})
	ids, _ := orderedFixture(t, r)

	missing := Hash([]byte("stored nowhere"))
	calls := 0
	err := r.ReadOrdered(ctx, append(ids[:10:10], missing), func(int, [][]byte) error { calls++; return nil })
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), missing.String()) || calls != 0 {
		t.Fatalf("missing chunk: %v after %d calls, want ErrNotFound naming it before any", err, calls)
	}

	stop := errors.New("stop")
	calls = 0
	err = r.ReadOrdered(ctx, ids, func(int, [][]byte) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("fn failing: %v after %d calls", err, calls)
	}

	cctx, cancel := context.WithCancel(ctx)
	calls = 0
	err = r.ReadOrdered(cctx, ids, func(int, [][]byte) error { calls++; cancel(); return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v after %d calls", err, calls)
	}

	// Damage the frame holding one of the last pages (not the zero page, whose frame is the
	// first): every run before it arrives, then the error.
	last := ids[len(ids)-2]
	r.mu.Lock()
	loc := r.testLoc(last)
	name := packName(r.packs[loc.pack].id)
	r.mu.Unlock()
	m.mu.Lock()
	m.objs[name][loc.off+loc.length/2] ^= 0x40
	m.mu.Unlock()
	next := 0
	err = r.ReadOrdered(ctx, ids, func(first int, got [][]byte) error { next = first + len(got); return nil })
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), name) {
		t.Fatalf("damaged frame: %v, want ErrCorrupt naming %s", err, name)
	}
	if next == 0 || next >= len(ids) {
		t.Fatalf("fn got chunks up to %d of %d before the damaged frame's error", next, len(ids))
	}
}

// TestReadOrderedSum: ReadOrderedUnchecked and SumMismatch as a restore uses them: the whole is checked against the sum, and a failure names the damaged
// chunk, also where the damage is in a frame stored as it is (nothing but the hash sees it).
func TestReadOrderedSum(t *testing.T) {
	ctx := context.Background()
	m := newMem()
	r := mustInit(t, m, Options{PackSize: 2 << 20})
	ids, data := orderedFixture(t, r)
	h := sha256.New()
	for _, id := range ids {
		h.Write(data[id])
	}
	var sum [32]byte
	h.Sum(sum[:0])
	read := func(sum [32]byte) (int, error) {
		n := 0
		err := r.readOrderedSum(ctx, ids, sum, func(first int, got [][]byte) error {
			n = first + len(got)
			return nil
		})
		return n, err
	}
	if n, err := read(sum); err != nil || n != len(ids) {
		t.Fatalf("intact: %d chunks, %v", n, err)
	}

	// The right chunks, another sum (a wrong chunk list would do this): ErrCorrupt.
	other := sum
	other[0] ^= 1
	if n, err := read(other); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "end to end") || n != len(ids) {
		t.Fatalf("other sum: %v after %d chunks, want ErrCorrupt about the whole", err, n)
	}

	missing := Hash([]byte("stored nowhere"))
	err := r.readOrderedSum(ctx, []ID{ids[0], missing}, sum, func(int, [][]byte) error { t.Fatal("fn called"); return nil })
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing chunk: %v, want ErrNotFound", err)
	}
	stop := errors.New("stop")
	if err := r.readOrderedSum(ctx, ids, sum, func(int, [][]byte) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("fn failing: %v", err)
	}

	// A byte flipped in the uncompressed frame of random pages (ids[1500:1540]), its CRC-32C
	// made to match (damage the frame's own check cannot see): it decodes, fn gets the
	// damaged page, the sum fails, and the error names that page.
	victim := ids[1520]
	r.mu.Lock()
	loc := r.testLoc(victim)
	name := packName(r.packs[loc.pack].id)
	r.mu.Unlock()
	if loc.flags&flagZstd != 0 {
		t.Fatal("the random pages' frame is compressed")
	}
	m.mu.Lock()
	stored := m.objs[name][loc.off : loc.off+loc.length]
	stored[loc.inner+100] ^= 0x40
	payload := stored[:len(stored)-crcSize]
	binary.LittleEndian.PutUint32(stored[len(payload):], crc32.Checksum(payload, crcTable))
	m.mu.Unlock()
	n, err := read(sum)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), victim.String()) || n != len(ids) {
		t.Fatalf("damaged page: %v after %d chunks, want ErrCorrupt naming %s", err, n, victim)
	}
}

// readOrderedSum is how a restore uses ReadOrderedUnchecked: the whole hashed as fn gets it,
// SumMismatch when that is not sum.
func (r *Repo) readOrderedSum(ctx context.Context, ids []ID, sum [32]byte, fn func(first int, data [][]byte) error) error {
	h := sha256.New()
	err := r.ReadOrderedUnchecked(ctx, ids, func(first int, data [][]byte) error {
		if err := fn(first, data); err != nil {
			return err
		}
		for _, d := range data {
			h.Write(d)
		}
		return nil
	})
	if err != nil {
		return err
	}
	var got [32]byte
	h.Sum(got[:0])
	if got == sum {
		return nil
	}
	return r.SumMismatch(ctx, ids, got, sum)
}
