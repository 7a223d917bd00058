package repo

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/painel-universal/painel/internal/backup/storage"
)

// flipper flips one bit of byte pos of object name and returns the undo.
type flipper func(t *testing.T, name string, pos int) (undo func())

func memFlipper(m *memBackend) flipper {
	return func(t *testing.T, name string, pos int) func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		b := m.objs[name]
		mask := byte(1) << (pos % 8)
		b[pos] ^= mask
		return func() {
			m.mu.Lock()
			defer m.mu.Unlock()
			m.objs[name][pos] ^= mask
		}
	}
}

func localFlipper(l *storage.Local) flipper {
	return func(t *testing.T, name string, pos int) func() {
		p := filepath.Join(l.Dir(), filepath.FromSlash(name))
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		mask := byte(1) << (pos % 8)
		b[pos] ^= mask
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return func() {
			b[pos] ^= mask
			if err := os.WriteFile(p, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// corruptFixture is a repository with several packs, two index objects and
// two manifests, and what it holds.
type corruptFixture struct {
	be     storage.Backend
	o      Options
	r      *Repo
	data   map[ID][]byte
	where  map[ID]struct{ pack, off, end int64 } // pack is unused: see packOf
	packOf map[ID]string
	inIdx  map[string][]ID // index object -> chunks it lists
}

func newCorruptFixture(t *testing.T, be storage.Backend, pass string) *corruptFixture {
	ctx := context.Background()
	f := &corruptFixture{be: be, o: Options{Passphrase: pass, PackSize: 6 << 10}, data: map[ID][]byte{},
		where: map[ID]struct{ pack, off, end int64 }{}, packOf: map[ID]string{}, inIdx: map[string][]ID{}}
	f.r = mustInit(t, be, f.o)
	seed := uint64(1)
	for round := 0; round < 2; round++ {
		for i := 0; i < 8; i++ {
			seed++
			var d []byte
			if i%2 == 0 {
				d = randBytes(seed, 300+int(seed*97%2000))
			} else {
				d = textBytes(seed, 500+int(seed*131%4000))
			}
			f.data[mustPut(t, f.r, d)] = d
		}
		mustFlush(t, f.r)
	}
	if err := f.r.SaveManifest(ctx, "m-1", textBytes(77, 3000)); err != nil {
		t.Fatal(err)
	}
	if err := f.r.SaveManifest(ctx, "m-2", []byte(`{"tipo":"completo"}`)); err != nil {
		t.Fatal(err)
	}
	for id := range f.data {
		loc := f.r.testLoc(id)
		f.packOf[id] = packName(f.r.packs[loc.pack].id)
		f.where[id] = struct{ pack, off, end int64 }{0, int64(loc.off), int64(loc.off) + int64(loc.length)}
	}
	good, bad, err := f.r.readIndexes(ctx)
	if err != nil || len(bad) > 0 || len(good) != 2 {
		t.Fatalf("fixture: %d good index objects, %v, %v", len(good), bad, err)
	}
	for _, ix := range good {
		for _, p := range ix.packs {
			for _, e := range p.entries {
				f.inIdx[ix.name] = append(f.inIdx[ix.name], e.id)
			}
		}
	}
	mustVerifyClean(t, f.r, true)
	return f
}

func hasProblem(rep VerifyReport, subs ...string) bool {
	for _, p := range rep.Problems {
		ok := true
		for _, s := range subs {
			ok = ok && strings.Contains(p, s)
		}
		if ok {
			return true
		}
	}
	return false
}

// TestFlipOneByte is acceptance 3: flipping one byte anywhere in any stored
// object (packs at sampled positions, every byte of index objects,
// manifests, config and keys) is detected by Verify(readData=true) and by
// Get / LoadManifest / Open of what it touches.
func TestFlipOneByte(t *testing.T) {
	modes(t, func(t *testing.T, pass string) {
		t.Run("mem", func(t *testing.T) {
			m := newMem()
			stride := 3
			if raceEnabled || testing.Short() {
				stride = 29
			}
			runFlips(t, newCorruptFixture(t, m, pass), memFlipper(m), stride, 1)
		})
		t.Run("local", func(t *testing.T) {
			l, err := storage.OpenLocal(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			runFlips(t, newCorruptFixture(t, l, pass), localFlipper(l), 97, 11)
		})
	})
}

func runFlips(t *testing.T, f *corruptFixture, flip flipper, packStride, smallStride int) {
	ctx := context.Background()
	names, sizes := listAll(t, f.be)
	checked := map[string]int{}
	for _, name := range names {
		size := int(sizes[name])
		var positions []int
		kind := name
		if i := strings.IndexByte(name, '/'); i > 0 {
			kind = name[:i]
		}
		switch kind {
		case "packs":
			// Sampled positions, plus every byte of the header and trailer
			// region and the first and last byte of every chunk.
			end := 0
			for id, w := range f.where {
				if f.packOf[id] == name {
					positions = append(positions, int(w.off), int(w.end)-1)
					end = max(end, int(w.end))
				}
			}
			for p := 0; p < size; p += packStride {
				positions = append(positions, p)
			}
			for p := end; p < size; p += smallStride {
				positions = append(positions, p)
			}
			positions = append(positions, size-1)
		default:
			for p := 0; p < size; p += smallStride {
				positions = append(positions, p)
			}
			positions = append(positions, size-1)
		}
		sort.Ints(positions)
		positions = slices.Compact(positions)
		for _, pos := range positions {
			undo := flip(t, name, pos)
			checkFlip(t, ctx, f, kind, name, pos)
			undo()
			checked[kind]++
			if t.Failed() {
				t.Fatalf("stopping after the first undetected flip")
			}
		}
	}
	t.Logf("flipped bytes checked per kind: %v", checked)
	for _, k := range []string{"packs", "index", "manifests", "config"} {
		if checked[k] == 0 {
			t.Fatalf("no %s object flipped", k)
		}
	}
	if f.o.Passphrase != "" && checked["keys"] == 0 {
		t.Fatal("no key object flipped")
	}
	mustVerifyClean(t, f.r, true)
}

func checkFlip(t *testing.T, ctx context.Context, f *corruptFixture, kind, name string, pos int) {
	t.Helper()
	verify := func(r *Repo, subs ...string) {
		t.Helper()
		rep, err := r.Verify(ctx, true)
		if err != nil {
			t.Errorf("%s byte %d: Verify error %v", name, pos, err)
			return
		}
		if !hasProblem(rep, subs...) {
			t.Errorf("%s byte %d flipped: Verify(readData) found no problem naming %q: %q", name, pos, subs, rep.Problems)
		}
	}
	switch kind {
	case "packs":
		verify(f.r, name)
		for id, w := range f.where {
			if f.packOf[id] != name {
				continue
			}
			_, err := f.r.Get(ctx, id)
			touched := int64(pos) >= w.off && int64(pos) < w.end
			switch {
			case touched && !errors.Is(err, ErrCorrupt):
				t.Errorf("%s byte %d (in chunk %s): Get = %v, want ErrCorrupt", name, pos, id, err)
			case touched:
				if !strings.Contains(err.Error(), id.String()) || !strings.Contains(err.Error(), name) {
					t.Errorf("Get error does not name the chunk and the pack: %v", err)
				}
				vc, err := f.r.VerifyChunks(ctx, []ID{id})
				if err != nil || len(vc.Problems) != 1 {
					t.Errorf("%s byte %d: VerifyChunks = %+v, %v", name, pos, vc, err)
				}
				called := false
				err = f.r.ReadOrdered(ctx, []ID{id}, func(int, [][]byte) error { called = true; return nil })
				if !errors.Is(err, ErrCorrupt) || called || !strings.Contains(err.Error(), id.String()) {
					t.Errorf("%s byte %d: ReadOrdered = %v (fn called: %v), want ErrCorrupt naming %s", name, pos, err, called, id)
				}
				// A chunk's ID is the SHA-256 of its data: the sum of a one-chunk read.
				err = f.r.readOrderedSum(ctx, []ID{id}, id, func(int, [][]byte) error { return nil })
				if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), id.String()) {
					t.Errorf("%s byte %d: readOrderedSum = %v, want ErrCorrupt naming %s", name, pos, err, id)
				}
				rep, _ := f.r.Verify(ctx, true)
				if !hasProblem(rep, id.String(), name) {
					t.Errorf("%s byte %d: Verify does not name chunk %s: %q", name, pos, id, rep.Problems)
				}
			case err != nil:
				t.Errorf("%s byte %d (not in chunk %s): Get = %v, want success", name, pos, id, err)
			}
		}
	case "index":
		r2, err := Open(ctx, f.be, f.o)
		if err != nil {
			t.Errorf("%s byte %d: Open failed (it should open and report): %v", name, pos, err)
			return
		}
		verify(r2, name)
		for _, id := range f.inIdx[name] {
			if _, err := r2.Get(ctx, id); !errors.Is(err, ErrCorrupt) {
				t.Errorf("%s byte %d: Get of chunk %s it lists = %v, want ErrCorrupt", name, pos, id, err)
			}
		}
		before, _ := listAll(t, f.be)
		if _, err := r2.Prune(ctx, func(ID) bool { return false }); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s byte %d: Prune with a damaged index = %v, want ErrCorrupt", name, pos, err)
		}
		if after, _ := listAll(t, f.be); !slices.Equal(before, after) {
			t.Errorf("Prune with a damaged index changed the store")
		}
	case "manifests":
		verify(f.r, name)
		if _, err := f.r.LoadManifest(ctx, strings.TrimPrefix(name, "manifests/")); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s byte %d: LoadManifest = %v, want ErrCorrupt", name, pos, err)
		}
	case "config", "keys":
		verify(f.r, name)
		if _, err := Open(ctx, f.be, f.o); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s byte %d: Open = %v, want ErrCorrupt", name, pos, err)
		}
	default:
		t.Fatalf("unexpected object %s", name)
	}
}

// TestRebuildIndex: a damaged index object is repaired from the packs.
func TestRebuildIndex(t *testing.T) {
	modes(t, func(t *testing.T, pass string) {
		ctx := context.Background()
		m := newMem()
		f := newCorruptFixture(t, m, pass)
		base := m.snapshot()
		var victims []string
		for n := range f.inIdx {
			victims = append(victims, n)
		}
		sort.Strings(victims)
		for _, victim := range victims {
			m.restore(base)
			memFlipper(m)(t, victim, 40)
			r := mustOpen(t, m, f.o)
			rep, err := r.RebuildIndex(ctx)
			if err != nil {
				t.Fatal(err)
			}
			// Unencrypted, the rebuilt object may be byte for byte the
			// damaged one's original, overwriting it instead.
			if rep.IndexesDeleted > 1 || rep.ChunksAdded != len(f.inIdx[victim]) || len(rep.Problems) > 0 {
				t.Fatalf("RebuildIndex of %s: %+v", victim, rep)
			}
			for id, d := range f.data {
				checkGet(t, r, id, d)
			}
			r2 := mustOpen(t, m, f.o)
			for id, d := range f.data {
				checkGet(t, r2, id, d)
			}
			mustVerifyClean(t, r2, true)
		}
	})
}

// TestVerifyStructure: a missing or truncated pack is found without reading
// data, Get names it, and Prune refuses to lose the kept chunks it held.
func TestVerifyStructure(t *testing.T) {
	modes(t, func(t *testing.T, pass string) {
		ctx := context.Background()
		m := newMem()
		f := newCorruptFixture(t, m, pass)
		base := m.snapshot()
		var victim ID
		for id := range f.data {
			victim = id
			break
		}
		pack := f.packOf[victim]

		delete(m.objs, pack)
		r := mustOpen(t, m, f.o)
		rep, err := r.Verify(ctx, false)
		if err != nil || !hasProblem(rep, pack, "missing") {
			t.Fatalf("Verify(false) with a missing pack: %q, %v", rep.Problems, err)
		}
		if _, err := r.Get(ctx, victim); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "missing") {
			t.Fatalf("Get from a missing pack: %v", err)
		}
		if vc, err := r.VerifyChunks(ctx, []ID{victim}); err != nil || !hasProblem(vc, victim.String(), pack) {
			t.Fatalf("VerifyChunks: %+v, %v", vc, err)
		}
		before, _ := listAll(t, m)
		if _, err := r.Prune(ctx, func(ID) bool { return true }); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Prune keeping a chunk of a missing pack: %v", err)
		}
		if after, _ := listAll(t, m); !slices.Equal(before, after) {
			t.Fatal("a refused Prune changed the store")
		}
		// Dropping that pack's chunks lets Prune clean the index up.
		lost := map[ID]bool{}
		for id, p := range f.packOf {
			if p == pack {
				lost[id] = true
			}
		}
		if _, err := r.Prune(ctx, func(id ID) bool { return !lost[id] }); err != nil {
			t.Fatal(err)
		}
		mustVerifyClean(t, r, true)

		m.restore(base)
		m.objs[pack] = m.objs[pack][:len(m.objs[pack])-10]
		r = mustOpen(t, m, f.o)
		if rep, err := r.Verify(ctx, false); err != nil || !hasProblem(rep, pack, "size") {
			t.Fatalf("Verify(false) with a truncated pack: %q, %v", rep.Problems, err)
		}
	})
}

func TestOptions(t *testing.T) {
	ctx := context.Background()
	for _, o := range []Options{{PackSize: 10}, {PackSize: 2 << 30}, {Level: 9}, {Level: -1}} {
		if _, err := Init(ctx, newMem(), o); err == nil {
			t.Errorf("Init accepted %+v", o)
		}
	}
	for _, s := range []string{"", "abc", strings.Repeat("g", 64)} {
		if _, err := ParseID(s); err == nil {
			t.Errorf("ParseID(%q) accepted", s)
		}
	}
	id := Hash([]byte("x"))
	if back, err := ParseID(id.String()); err != nil || back != id {
		t.Fatalf("ParseID(String()) = %v, %v", back, err)
	}
	for _, n := range []string{"", "A", "a_b", "a/b", strings.Repeat("a", 65)} {
		if CheckManifestName(n) == nil {
			t.Errorf("manifest name %q accepted", n)
		}
	}
}
