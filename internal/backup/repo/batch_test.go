package repo

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/painel-universal/painel/internal/backup/storage"
)

// batchFill stores n pages of 4 KiB through a Batch (every fifth one a repeat of an earlier
// page, to exercise deduplication inside a batch) and returns each page's ID and content.
func batchFill(t *testing.T, r *Repo, n int, seed uint64) ([]ID, map[ID][]byte) {
	t.Helper()
	return batchFillFrames(t, r, n, seed, 32<<10) // 8 pages a frame
}

// batchFillFrames is batchFill with frames of frameSize bytes.
func batchFillFrames(t *testing.T, r *Repo, n int, seed uint64, frameSize int) ([]ID, map[ID][]byte) {
	t.Helper()
	ctx := context.Background()
	b := r.NewBatch(ctx, frameSize)
	ids := make([]ID, n)
	data := map[ID][]byte{}
	for i := range n {
		page := textBytes(seed+uint64(i), 4096)
		if i%5 == 4 {
			page = textBytes(seed+uint64(i-3), 4096)
		}
		id, err := b.Add(page)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id
		data[id] = page
	}
	added, err := b.Close()
	if err != nil {
		t.Fatal(err)
	}
	if added <= 0 {
		t.Fatalf("Close reported %d bytes added", added)
	}
	mustFlush(t, r)
	return ids, data
}

func TestBatchFramesRoundTrip(t *testing.T) {
	modes(t, func(t *testing.T, pass string) {
		backends(t, func(t *testing.T, be storage.Backend) {
			ctx := context.Background()
			o := Options{Passphrase: pass, PackSize: 96 << 10}
			r := mustInit(t, be, o)
			ids, data := batchFill(t, r, 200, 1)

			// Frames really hold several chunks: far fewer distinct offsets than chunks.
			frames := map[[2]uint32]bool{}
			locs := r.allLocs()
			for _, loc := range locs {
				frames[[2]uint32{loc.pack, loc.off}] = true
			}
			nChunks := len(locs)
			if nChunks != len(data) {
				t.Fatalf("%d chunks indexed, want %d distinct", nChunks, len(data))
			}
			if len(frames)*4 > nChunks {
				t.Fatalf("%d frames for %d chunks: chunks were not grouped", len(frames), nChunks)
			}

			// A second batch of the same pages adds nothing.
			b := r.NewBatch(ctx, 0)
			for _, id := range ids {
				if _, err := b.Add(data[id]); err != nil {
					t.Fatal(err)
				}
			}
			if added, err := b.Close(); err != nil || added != 0 {
				t.Fatalf("re-adding stored pages: added %d, err %v", added, err)
			}

			// Reopen: Get, GetMany, verify.
			r = mustOpen(t, be, o)
			for _, id := range ids[:20] {
				checkGet(t, r, id, data[id])
			}
			seen := 0
			if err := r.GetMany(ctx, ids, func(id ID, got []byte) error {
				seen++
				if !bytes.Equal(got, data[id]) {
					t.Errorf("GetMany %s: wrong bytes", id)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if seen != len(data) {
				t.Fatalf("GetMany delivered %d chunks, want %d", seen, len(data))
			}
			mustVerifyClean(t, r, true)

			// Prune half: frames that keep some of their chunks are compressed again
			// without the others; every kept chunk still reads back.
			keep := map[ID]bool{}
			for i, id := range ids {
				if i%2 == 0 {
					keep[id] = true
				}
			}
			o.MaxUnused = -1 // rewrite every pack with anything unused
			r = mustOpen(t, be, o)
			if _, err := r.Prune(ctx, func(id ID) bool { return keep[id] }); err != nil {
				t.Fatal(err)
			}
			r = mustOpen(t, be, o)
			for id := range keep {
				checkGet(t, r, id, data[id])
			}
			for _, id := range ids {
				if !keep[id] && r.Has(id) {
					t.Fatalf("pruned chunk %s is still indexed", id)
				}
			}
			mustVerifyClean(t, r, true)

			// The index rebuilt from the packs' headers finds every frame's chunks.
			for _, n := range listNamesWith(t, be, "index/") {
				if err := be.Delete(ctx, n); err != nil {
					t.Fatal(err)
				}
			}
			r = mustOpen(t, be, o)
			if _, err := r.RebuildIndex(ctx); err != nil {
				t.Fatal(err)
			}
			for id := range keep {
				checkGet(t, r, id, data[id])
			}
		})
	})
}

// A flipped byte in a frame is found for every chunk the frame holds, by Get and Verify.
func TestBatchFrameCorruption(t *testing.T) {
	modes(t, func(t *testing.T, pass string) {
		ctx := context.Background()
		be := newMem()
		o := Options{Passphrase: pass}
		r := mustInit(t, be, o)
		ids, _ := batchFill(t, r, 40, 7)
		packs := listNamesWith(t, be, "packs/")
		if len(packs) != 1 {
			t.Fatalf("%d packs, want 1", len(packs))
		}
		obj, _ := be.get(packs[0])
		obj[100] ^= 0x40 // inside the first frame
		be.objs[packs[0]] = obj
		r = mustOpen(t, be, o)
		failed := 0
		for _, id := range ids {
			if _, err := r.Get(ctx, id); err != nil {
				failed++
			}
		}
		if failed < 4 {
			t.Fatalf("%d chunks failed to read after a flipped byte in a frame, want the frame's (≥ 4)", failed)
		}
		rep, err := r.Verify(ctx, true)
		if err != nil {
			t.Fatal(err)
		}
		if rep.OK() || !strings.Contains(strings.Join(rep.Problems, "\n"), "chunk") {
			t.Fatalf("Verify did not report the damaged frame's chunks: %v", rep.Problems)
		}
	})
}

func listNamesWith(t *testing.T, be storage.Backend, prefix string) []string {
	t.Helper()
	names, _ := listAll(t, be)
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	return out
}

// TestGetManyLoan: chunks read with a loan are the stored ones, big frames decoded into lent
// buffers; after Release the buffers serve the next read, whose chunks are right too.
func TestGetManyLoan(t *testing.T) {
	modes(t, func(t *testing.T, pass string) {
		ctx := context.Background()
		r := mustInit(t, newMem(), Options{Passphrase: pass, PackSize: 4 << 20})
		// Frames of 512 KiB are lent buffers; the last, smaller one is not.
		ids, data := batchFillFrames(t, r, 600, 7, 512<<10)
		for round := range 3 {
			loan := &Loan{}
			got := map[ID][]byte{}
			if err := r.GetManyLoan(ctx, ids, loan, func(id ID, b []byte) error {
				got[id] = b
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			loan.mu.Lock()
			lent := len(loan.lent)
			loan.mu.Unlock()
			if lent == 0 {
				t.Fatal("no frame was decoded into a lent buffer")
			}
			for id, want := range data {
				if !bytes.Equal(got[id], want) {
					t.Fatalf("round %d: chunk %s differs", round, id)
				}
			}
			loan.Release()
			loanBufs.mu.Lock()
			free := len(loanBufs.free)
			loanBufs.mu.Unlock()
			if free == 0 {
				t.Fatalf("round %d: Release gave no buffer back", round)
			}
		}
	})
}

// TestWhileIndexLoads: Open runs the hook on the opened repository (which can read manifests)
// and returns its error; the repository it returns has its index.
func TestWhileIndexLoads(t *testing.T) {
	ctx := context.Background()
	be := newMem()
	r := mustInit(t, be, Options{})
	ids, _ := batchFill(t, r, 20, 3)
	if err := r.SaveManifest(ctx, "b-1", []byte(`{"id":"b-1"}`)); err != nil {
		t.Fatal(err)
	}
	var seen []byte
	r2, err := Open(ctx, be, Options{WhileIndexLoads: func(ctx context.Context, r *Repo) error {
		var err error
		seen, err = r.LoadManifest(ctx, "b-1")
		return err
	}})
	if err != nil {
		t.Fatal(err)
	}
	if string(seen) != `{"id":"b-1"}` {
		t.Fatalf("the hook read %q", seen)
	}
	if !r2.Has(ids[0]) {
		t.Fatal("the index was not loaded")
	}
	boom := errors.New("boom")
	if _, err := Open(ctx, be, Options{WhileIndexLoads: func(context.Context, *Repo) error { return boom }}); !errors.Is(err, boom) {
		t.Fatalf("Open with a failing hook: %v", err)
	}
}

// TestGetManyAt: every index of the list gets its chunk's data, once, whatever the order and
// however often an ID repeats (in a written pack or in the pack being built); an ID stored
// nowhere fails the read with ErrNotFound.
func TestGetManyAt(t *testing.T) {
	modes(t, func(t *testing.T, pass string) {
		ctx := context.Background()
		r := mustInit(t, newMem(), Options{Passphrase: pass, PackSize: 4 << 20})
		ids, data := batchFillFrames(t, r, 600, 11, 512<<10) // every fifth page repeats
		unflushed := textBytes(999, 4096)
		uid, _, err := r.Put(ctx, unflushed) // in the pack being built: no Flush
		if err != nil {
			t.Fatal(err)
		}
		data[uid] = unflushed
		var ask []ID
		for i := len(ids) - 1; i >= 0; i-- {
			ask = append(ask, ids[i])
		}
		ask = append(ask, uid, ids[3], uid)
		ask = append(ask, ids[:40]...)
		loan := &Loan{}
		defer loan.Release()
		got := make([][]byte, len(ask))
		calls := make([]int, len(ask))
		if err := r.GetManyAt(ctx, ask, loan, func(i int, b []byte) error {
			got[i] = b
			calls[i]++
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for i, id := range ask {
			if calls[i] != 1 {
				t.Fatalf("index %d: fn called %d times", i, calls[i])
			}
			if !bytes.Equal(got[i], data[id]) {
				t.Fatalf("index %d (%s): wrong data", i, id)
			}
		}

		// One unknown ID among known ones: the read fails, naming it.
		missing := Hash([]byte("stored nowhere"))
		err = r.GetManyAt(ctx, append([]ID{ids[0], missing}, ids[1:10]...), nil, func(int, []byte) error { return nil })
		if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), missing.String()) {
			t.Fatalf("GetManyAt with a missing chunk: %v, want ErrNotFound naming it", err)
		}
		// fn's error stops the read and is returned.
		stop := errors.New("stop here")
		n := 0
		err = r.GetManyAt(ctx, ids, nil, func(int, []byte) error {
			n++
			return stop
		})
		if !errors.Is(err, stop) || n != 1 {
			t.Fatalf("GetManyAt with fn failing: %v after %d calls, want %v after 1", err, n, stop)
		}
	})
}
