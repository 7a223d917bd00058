package repo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/painel-universal/painel/internal/backup/storage"
)

// pruneFixture fills a repository with chunks to keep and chunks to drop,
// mixed in packs, over several Flushes (several index objects, small
// packs), plus a pack no index lists.
type pruneFixture struct {
	keep, drop map[ID][]byte
}

func (f *pruneFixture) keepFn(id ID) bool { _, ok := f.keep[id]; return ok }

func buildPruneFixture(t *testing.T, be storage.Backend, o Options) *pruneFixture {
	t.Helper()
	f := &pruneFixture{keep: map[ID][]byte{}, drop: map[ID][]byte{}}
	r := mustInit(t, be, o)
	seed := uint64(1000)
	put := func(keep bool, n int) {
		seed++
		var d []byte
		if seed%3 == 0 {
			d = textBytes(seed, n)
		} else {
			d = randBytes(seed, n)
		}
		id := mustPut(t, r, d)
		if keep {
			f.keep[id] = d
		} else {
			f.drop[id] = d
		}
	}
	// Mixed packs.
	for i := 0; i < 24; i++ {
		put(i%3 != 0, 700+i*37)
	}
	mustFlush(t, r)
	// A pack of dropped chunks only.
	for i := 0; i < 6; i++ {
		put(false, 900)
	}
	mustFlush(t, r)
	// Small packs (one Flush each).
	for i := 0; i < 3; i++ {
		put(true, 200)
		mustFlush(t, r)
	}
	// A pack written but never indexed (the process died before Flush).
	r2 := mustOpen(t, be, o)
	for i := 0; i < 8; i++ {
		mustPut(t, r2, randBytes(uint64(5000+i), 1500))
	}
	return f
}

func (f *pruneFixture) check(t *testing.T, r *Repo, removed bool) {
	t.Helper()
	for id, d := range f.keep {
		checkGet(t, r, id, d)
	}
	if removed {
		for id := range f.drop {
			if r.Has(id) {
				t.Fatalf("Has(%s) true for a removed chunk", id)
			}
			if _, err := r.Get(context.Background(), id); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Get of removed chunk: %v", err)
			}
		}
	}
}

func countPrefix(t *testing.T, be storage.Backend, prefix string) int {
	names, _ := listAll(t, be)
	n := 0
	for _, x := range names {
		if strings.HasPrefix(x, prefix) {
			n++
		}
	}
	return n
}

func TestPrune(t *testing.T) {
	modes(t, func(t *testing.T, pass string) {
		backends(t, func(t *testing.T, be storage.Backend) {
			ctx := context.Background()
			o := Options{Passphrase: pass, PackSize: 8 << 10}
			f := buildPruneFixture(t, be, o)
			r := mustOpen(t, be, o)
			f.check(t, r, false)
			if rep := mustVerifyClean(t, r, true); rep.UnindexedPacks != 1 {
				t.Fatalf("fixture: %+v", rep)
			}
			before := totalBytes(t, be)
			rep, err := r.Prune(ctx, f.keepFn)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("prune: %+v", rep)
			after := totalBytes(t, be)
			if rep.ChunksRemoved != len(f.drop) || rep.BytesFreed <= 0 || before-after != rep.BytesFreed ||
				rep.PacksDeleted < 2 || rep.PacksRewritten < 1 {
				t.Fatalf("prune %+v; bytes %d -> %d", rep, before, after)
			}
			f.check(t, r, true)
			if n, _, _ := r.Stats(); n != len(f.keep) {
				t.Fatalf("Stats: %d chunks, want %d", n, len(f.keep))
			}
			if rep := mustVerifyClean(t, r, true); rep.UnindexedPacks != 0 || rep.Chunks != len(f.keep) {
				t.Fatalf("after prune: %+v", rep)
			}
			if n := countPrefix(t, be, "index/"); n != 1 {
				t.Fatalf("%d index objects after prune, want 1", n)
			}
			r2 := mustOpen(t, be, o)
			f.check(t, r2, true)
			// Prune converges: the next runs change nothing (or merge what
			// is left once).
			var last PruneReport
			for i := 0; i < 2; i++ {
				if last, err = r2.Prune(ctx, f.keepFn); err != nil {
					t.Fatal(err)
				}
			}
			if last != (PruneReport{}) {
				t.Fatalf("third prune still changed something: %+v", last)
			}
			f.check(t, r2, true)
			// Dropping everything empties the store of packs.
			if _, err := r2.Prune(ctx, func(ID) bool { return false }); err != nil {
				t.Fatal(err)
			}
			if n := countPrefix(t, be, "packs/"); n != 0 {
				t.Fatalf("%d packs left after dropping everything", n)
			}
			mustVerifyClean(t, mustOpen(t, be, o), true)
		})
	})
}

// TestPruneMaxUnused: a pack with little unused space stays (its removed
// chunk leaves the index at once); MaxUnused < 0 rewrites it.
func TestPruneMaxUnused(t *testing.T) {
	ctx := context.Background()
	be := newMem()
	o := Options{PackSize: 64 << 10}
	r := mustInit(t, be, o)
	var ids []ID
	data := map[ID][]byte{}
	for i := 0; i < 20; i++ {
		d := randBytes(uint64(i), 3000)
		id := mustPut(t, r, d)
		ids = append(ids, id)
		data[id] = d
	}
	mustFlush(t, r)
	gone := ids[7]
	keep := func(id ID) bool { return id != gone }
	rep, err := r.Prune(ctx, keep)
	if err != nil {
		t.Fatal(err)
	}
	if rep.PacksRewritten != 0 || rep.ChunksRemoved != 1 || rep.PacksDeleted != 0 {
		t.Fatalf("prune: %+v", rep)
	}
	if r.Has(gone) {
		t.Fatal("removed chunk still in the index")
	}
	r2 := mustOpen(t, be, Options{PackSize: 64 << 10, MaxUnused: -1})
	if r2.Has(gone) {
		t.Fatal("removed chunk back after reopen")
	}
	mustVerifyClean(t, r2, true)
	before := totalBytes(t, be)
	rep, err = r2.Prune(ctx, keep)
	if err != nil {
		t.Fatal(err)
	}
	if rep.PacksRewritten != 1 || rep.BytesFreed < 3000 || before-totalBytes(t, be) != rep.BytesFreed {
		t.Fatalf("prune with MaxUnused -1: %+v", rep)
	}
	for _, id := range ids {
		if id != gone {
			checkGet(t, r2, id, data[id])
		}
	}
	good, _, _ := r2.readIndexes(ctx)
	for _, ix := range good {
		for _, p := range ix.packs {
			if p.unused != 0 {
				t.Fatalf("pack %s still has %d unused bytes", p.id, p.unused)
			}
		}
	}
}

// TestPruneCrash interrupts Prune before each of its writes (and, in the
// writeThenFail mode, right after each write reached storage) and checks
// that the repository stays sound, keeps every kept chunk, and that a rerun
// finishes the job.
func TestPruneCrash(t *testing.T) {
	modes(t, func(t *testing.T, pass string) {
		for _, c := range []struct {
			wtf       bool
			maxUnused float64
		}{{false, 0}, {true, 0}, {false, 0.95}, {true, 0.95}} {
			wtf := c.wtf
			t.Run(fmt.Sprintf("writeThenFail=%v/maxUnused=%v", wtf, c.maxUnused), func(t *testing.T) {
				ctx := context.Background()
				o := Options{Passphrase: pass, PackSize: 4 << 10, MaxUnused: c.maxUnused}
				m := newMem()
				f := buildPruneFixture(t, m, o)
				base := m.snapshot()

				cb := &countingBackend{Backend: m}
				if _, err := mustOpen(t, cb, o).Prune(ctx, f.keepFn); err != nil {
					t.Fatal(err)
				}
				total := cb.writes
				if total < 10 {
					t.Fatalf("only %d writes in a prune: fixture too small", total)
				}
				for n := 0; n <= total; n++ {
					m.restore(base)
					fb := &faultBackend{Backend: m, left: n, writeThenFail: wtf}
					_, err := mustOpen(t, fb, o).Prune(ctx, f.keepFn)
					if n < total && !errors.Is(err, errCrash) {
						t.Fatalf("crash after %d writes: Prune = %v, want the injected crash", n, err)
					}
					if n == total && err != nil {
						t.Fatal(err)
					}
					r := mustOpen(t, m, o)
					if rep, err := r.Verify(ctx, true); err != nil || !rep.OK() {
						t.Fatalf("crash after %d of %d writes: Verify = %v, %q", n, total, err, rep.Problems)
					}
					f.check(t, r, false)
					if _, err := r.Prune(ctx, f.keepFn); err != nil {
						t.Fatalf("crash after %d writes: rerun: %v", n, err)
					}
					f.check(t, r, true)
					r = mustOpen(t, m, o)
					f.check(t, r, true)
					if rep := mustVerifyClean(t, r, true); rep.UnindexedPacks != 0 {
						t.Fatalf("crash after %d writes: rerun left %d unindexed packs", n, rep.UnindexedPacks)
					}
					if c := countPrefix(t, m, "index/"); c != 1 {
						t.Fatalf("crash after %d writes: %d index objects after the rerun", n, c)
					}
				}
				t.Logf("checked a crash at each of %d writes", total+1)
			})
		}
	})
}

// TestPutFlushCrash interrupts a backup-like sequence (Put, Flush,
// SaveManifest) at each write: what a successful Flush stored stays
// readable, manifests saved stay loadable, and the repository verifies.
func TestPutFlushCrash(t *testing.T) {
	modes(t, func(t *testing.T, pass string) {
		for _, wtf := range []bool{false, true} {
			t.Run(fmt.Sprintf("writeThenFail=%v", wtf), func(t *testing.T) {
				ctx := context.Background()
				o := Options{Passphrase: pass, PackSize: 4 << 10}
				chunksOf := func(round int) [][]byte {
					var out [][]byte
					for i := 0; i < 12; i++ {
						out = append(out, randBytes(uint64(round*100+i), 600+i*50))
					}
					out = append(out, textBytes(1, 2000)) // in every round: dedup
					return out
				}
				// scenario runs the sequence and returns what was stored for
				// sure: chunks whose Flush succeeded, manifests saved.
				scenario := func(be storage.Backend) (map[ID][]byte, []string, error) {
					stored := map[ID][]byte{}
					var manifests []string
					r := mustOpen(t, be, o)
					for round := 0; round < 4; round++ {
						pending := map[ID][]byte{}
						for _, c := range chunksOf(round) {
							id, _, err := r.Put(ctx, c)
							if err != nil {
								return stored, manifests, err
							}
							pending[id] = c
						}
						if err := r.Flush(ctx); err != nil {
							return stored, manifests, err
						}
						for id, c := range pending {
							stored[id] = c
						}
						name := fmt.Sprintf("r-%d", round)
						if err := r.SaveManifest(ctx, name, []byte(name)); err != nil {
							return stored, manifests, err
						}
						manifests = append(manifests, name)
					}
					return stored, manifests, nil
				}
				m := newMem()
				mustInit(t, m, o)
				base := m.snapshot()
				cb := &countingBackend{Backend: m}
				if _, _, err := scenario(cb); err != nil {
					t.Fatal(err)
				}
				total := cb.writes
				for n := 0; n <= total; n++ {
					m.restore(base)
					stored, manifests, err := scenario(&faultBackend{Backend: m, left: n, writeThenFail: wtf})
					if (n < total) != errors.Is(err, errCrash) {
						t.Fatalf("crash after %d of %d writes: %v", n, total, err)
					}
					r := mustOpen(t, m, o)
					mustVerifyClean(t, r, true)
					for id, c := range stored {
						checkGet(t, r, id, c)
					}
					for _, name := range manifests {
						if b, err := r.LoadManifest(ctx, name); err != nil || string(b) != name {
							t.Fatalf("manifest %s: %v", name, err)
						}
					}
					if _, err := r.Prune(ctx, func(id ID) bool { _, ok := stored[id]; return ok }); err != nil {
						t.Fatal(err)
					}
					if rep := mustVerifyClean(t, mustOpen(t, m, o), true); rep.UnindexedPacks != 0 {
						t.Fatalf("unindexed packs after prune: %+v", rep)
					}
					for id, c := range stored {
						checkGet(t, r, id, c)
					}
				}
				t.Logf("checked a crash at each of %d writes", total+1)
			})
		}
	})
}

// TestPruneRemovesStaleTemp: temporary files of the local backend that an
// interrupted write left behind go, fresh ones (a write in progress) stay.
func TestPruneRemovesStaleTemp(t *testing.T) {
	ctx := context.Background()
	l, err := storage.OpenLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := mustInit(t, l, Options{})
	mustPut(t, r, []byte("x"))
	mustFlush(t, r)
	dir := filepath.Join(l.Dir(), "packs")
	stale := filepath.Join(dir, ".tmp-old-123")
	fresh := filepath.Join(dir, ".tmp-new-456")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, make([]byte, 100), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * StaleTempAge)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	rep, err := r.Prune(ctx, func(ID) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	if rep.TempRemoved != 1 || rep.BytesFreed != 100 {
		t.Fatalf("prune: %+v", rep)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatal("stale temp file still there")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Fatal("fresh temp file removed")
	}
}
