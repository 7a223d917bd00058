package repo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/painel-universal/painel/internal/backup/storage"
)

// PruneReport says what Prune did.
type PruneReport struct {
	PacksDeleted   int   // packs deleted whole: no kept chunk, or listed by no index
	PacksRewritten int   // packs whose kept chunks were copied to new packs, then deleted
	ChunksRemoved  int   // distinct chunks dropped from the index
	BytesFreed     int64 // bytes deleted minus bytes written (packs, index objects, temp files)
	PacksWritten   int   // new packs written by the rewrite
	IndexesWritten int   // index objects written (the compacted index)
	IndexesDeleted int   // index objects deleted (replaced by the compacted index)
	TempRemoved    int   // stale temporary files removed (see StaleTempRemover)
}

// StaleTempRemover is implemented by backends whose writes can leave
// temporary objects behind when a process dies mid-write. Prune calls it
// with StaleTempAge. For storage.Local, which does not implement it, Prune
// removes the ".tmp-*" files older than StaleTempAge under its folder
// itself.
type StaleTempRemover interface {
	RemoveStaleTemp(ctx context.Context, olderThan time.Duration) (removed int, bytes int64, err error)
}

// StaleTempAge is how old a temporary file must be before Prune removes it;
// younger ones may belong to a write in progress.
const StaleTempAge = time.Hour

// prunePack is Prune's view of one indexed pack.
type prunePack struct {
	id       ID
	size     int64
	unused   int64 // dead bytes not in the index
	entries  map[ID]packEntry
	used     []packEntry         // entries chosen to stay
	keptSize int64               // bytes of its frames that hold a kept chunk (counting duplicates)
	kept     map[uint32]struct{} // offsets of those frames
	missing  bool
	action   int
}

// listed returns the pack's entries in the index.
func (pp *prunePack) listed() []packEntry {
	out := make([]packEntry, 0, len(pp.entries))
	for _, e := range pp.entries {
		out = append(out, e)
	}
	return out
}

const (
	packKeep = iota
	packDelete
	packRewrite
)

// Prune keeps the chunks in keep and removes the rest: packs with no kept
// chunk are deleted; packs with some are rewritten when more than
// Options.MaxUnused of their bytes is unused, and small packs are merged
// (kept chunks copied to new packs, a new index written, then the old index
// objects and packs deleted); removed chunks drop out of the index even
// where their pack stays. It also deletes packs that no index mentions
// (leftovers of an interrupted run), stale temporary files, and merges all
// index objects into few. Every step is crash-safe: new packs and the new
// index are written before any old index object, and old index objects are
// deleted before old packs, so an interruption leaves duplicates or garbage,
// never a kept chunk without a readable copy; running Prune again cleans up.
// Prune refuses to run while an index object is damaged (see RebuildIndex)
// and stops before deleting anything when a pack it must copy from is
// damaged or a kept chunk has no stored copy. The caller guarantees that no
// backup runs at the same time (it holds the lock); keep is called once per
// distinct indexed chunk.
func (r *Repo) Prune(ctx context.Context, keep func(ID) bool) (PruneReport, error) {
	var rep PruneReport
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	if err := r.flushLocked(ctx); err != nil {
		return rep, fmt.Errorf("repo: prune: %w", err)
	}

	good, bad, err := r.readIndexes(ctx)
	if err != nil {
		return rep, fmt.Errorf("repo: prune: %w", err)
	}
	if len(bad) > 0 {
		var names []string
		for n := range bad {
			names = append(names, n)
		}
		sort.Strings(names)
		return rep, corruptf("prune: damaged index objects (%s); nothing was deleted; run RebuildIndex first", strings.Join(names, ", "))
	}
	idxSizes, idxNames, err := r.listNames(ctx, "index/")
	if err != nil {
		return rep, fmt.Errorf("repo: prune: %w", err)
	}
	packSizes, packNames, err := r.listNames(ctx, "packs/")
	if err != nil {
		return rep, fmt.Errorf("repo: prune: %w", err)
	}

	// Gather the packs the index lists.
	packs := map[ID]*prunePack{}
	for _, ix := range good {
		for _, p := range ix.packs {
			pp := packs[p.id]
			if pp == nil {
				pp = &prunePack{id: p.id, size: p.size, unused: p.unused, entries: map[ID]packEntry{}}
				packs[p.id] = pp
			}
			// Duplicated listings (an interrupted Prune) may disagree on
			// the dead bytes; the larger count is the safe estimate.
			pp.unused = max(pp.unused, p.unused)
			for _, e := range p.entries {
				pp.entries[e.id] = e
			}
		}
	}
	order := make([]*prunePack, 0, len(packs))
	for _, pp := range packs {
		if size, ok := packSizes[packName(pp.id)]; !ok || size != pp.size {
			pp.missing = true
		}
		order = append(order, pp)
	}
	sort.Slice(order, func(i, j int) bool { return bytes.Compare(order[i].id[:], order[j].id[:]) < 0 })

	// Decide which chunks stay, and where (one copy of each).
	kept := map[ID]bool{}
	cands := map[ID][]*prunePack{}
	totalEntries := 0
	for _, pp := range order {
		for id, e := range pp.entries {
			totalEntries++
			k, seen := kept[id]
			if !seen {
				k = keep(id)
				kept[id] = k
			}
			if !k {
				continue
			}
			if !pp.missing {
				if pp.kept == nil {
					pp.kept = map[uint32]struct{}{}
				}
				if _, ok := pp.kept[e.off]; !ok {
					pp.kept[e.off] = struct{}{}
					pp.keptSize += int64(e.length)
				}
				cands[id] = append(cands[id], pp)
			}
		}
	}
	for id, k := range kept {
		if !k {
			rep.ChunksRemoved++
			continue
		}
		cs := cands[id]
		if len(cs) == 0 {
			var where []string
			for _, pp := range order {
				if _, ok := pp.entries[id]; ok {
					where = append(where, packName(pp.id))
				}
			}
			return rep, corruptf("prune: kept chunk %s is only in missing or truncated pack(s) %s; nothing was deleted; run Verify", id, strings.Join(where, ", "))
		}
		best := cs[0]
		for _, c := range cs[1:] {
			// Prefer the pack that keeps the largest share of its bytes.
			if c.keptSize*best.size > best.keptSize*c.size {
				best = c
			}
		}
		best.used = append(best.used, best.entries[id])
	}
	chosen := 0
	var small []*prunePack
	for _, pp := range order {
		sort.Slice(pp.used, func(i, j int) bool { return pp.used[i].off < pp.used[j].off })
		chosen += len(pp.used)
		if len(pp.used) == 0 {
			pp.action = packDelete
			continue
		}
		usedBytes := frameBytes(pp.used)
		unused := pp.unused + frameBytes(pp.listed())
		unused = min(unused-usedBytes, pp.size-usedBytes)
		switch {
		case r.opts.MaxUnused < 0 && unused > 0, float64(unused) > r.opts.MaxUnused*float64(pp.size):
			pp.action = packRewrite
		case pp.size < int64(r.opts.PackSize)/4:
			small = append(small, pp)
		}
	}
	if len(small) >= 2 {
		for _, pp := range small {
			pp.action = packRewrite
		}
	}

	// Garbage: packs no index lists, and names that are not ours.
	var garbage []string
	for _, n := range packNames {
		if id, ok := parsePackName(n); !ok || packs[id] == nil {
			garbage = append(garbage, n)
		}
	}
	var badIdxNames []string
	for _, n := range idxNames {
		if _, ok := parseLowerHexID(strings.TrimPrefix(n, "index/")); !ok {
			badIdxNames = append(badIdxNames, n)
		}
	}

	changes := len(garbage) > 0 || len(badIdxNames) > 0 || len(good) > 1 || chosen != totalEntries
	for _, pp := range order {
		if pp.action != packKeep || pp.missing {
			changes = true
		}
	}
	var written int64
	var deleted int64
	if changes {
		// 1. Copy the kept chunks of the packs to rewrite into new packs.
		newPacks, n, err := r.rewritePacks(ctx, order)
		if err != nil {
			return rep, fmt.Errorf("repo: prune: %w", err)
		}
		written += n
		rep.PacksWritten = len(newPacks)

		// 2. Write the compacted index: kept packs and new packs.
		var all []indexPack
		keepNames := map[string]bool{}
		for _, pp := range order {
			if pp.action != packKeep || pp.missing {
				continue
			}
			usedBytes := frameBytes(pp.used)
			listed := frameBytes(pp.listed())
			// After an interrupted Prune a pack can be listed twice, with
			// and without its removed chunks: never claim more than
			// everything but the used bytes.
			unused := min(pp.unused+listed-usedBytes, pp.size-usedBytes)
			all = append(all, indexPack{id: pp.id, size: pp.size, unused: unused, entries: pp.used})
			keepNames[packName(pp.id)] = true
		}
		for _, p := range newPacks {
			all = append(all, p)
			keepNames[packName(p.id)] = true
		}
		newIdx := map[string]bool{}
		for _, group := range splitIndex(all, maxIndexEntries) {
			obj := r.c.seal(kindIndex, "index/", encodeIndex(group), true, r.c.encrypted())
			name := indexName(obj)
			if err := putObject(ctx, r.be, name, obj); err != nil {
				return rep, fmt.Errorf("repo: prune: writing %s: %w", name, err)
			}
			newIdx[name] = true
			written += int64(len(obj))
			rep.IndexesWritten++
		}

		// 3. Delete the old index objects (the new ones stand for them).
		for _, n := range idxNames {
			if newIdx[n] {
				continue
			}
			if err := r.be.Delete(ctx, n); err != nil {
				return rep, fmt.Errorf("repo: prune: deleting %s: %w", n, err)
			}
			deleted += idxSizes[n]
			rep.IndexesDeleted++
		}

		// 4. Delete the packs no index lists any more.
		del := func(name string) (bool, error) {
			if keepNames[name] {
				return false, nil // a rewrite produced the same bytes
			}
			size, ok := packSizes[name]
			if !ok {
				return false, nil
			}
			if err := r.be.Delete(ctx, name); err != nil {
				return false, fmt.Errorf("repo: prune: deleting %s: %w", name, err)
			}
			deleted += size
			return true, nil
		}
		for _, pp := range order {
			if pp.action == packKeep && !pp.missing {
				continue
			}
			ok, err := del(packName(pp.id))
			if err != nil {
				return rep, err
			}
			if ok {
				if pp.action == packRewrite {
					rep.PacksRewritten++
				} else {
					rep.PacksDeleted++
				}
			}
		}
		for _, n := range garbage {
			ok, err := del(n)
			if err != nil {
				return rep, err
			}
			if ok {
				rep.PacksDeleted++
			}
		}
	}

	// 5. Stale temporary files.
	n, b, err := removeStaleTemp(ctx, r.be)
	if err != nil {
		return rep, fmt.Errorf("repo: prune: removing stale temporary files: %w", err)
	}
	rep.TempRemoved = n
	deleted += b
	rep.BytesFreed = deleted - written

	if err := r.loadIndex(ctx); err != nil {
		return rep, fmt.Errorf("repo: prune: reloading the index: %w", err)
	}
	return rep, nil
}

// rewritePacks copies the chosen chunks of the packs marked packRewrite into
// new packs, checking each chunk, and returns the new packs and the bytes
// written.
func (r *Repo) rewritePacks(ctx context.Context, order []*prunePack) ([]indexPack, int64, error) {
	var out []indexPack
	var written int64
	b := &packBuilder{}
	flush := func() error {
		if len(b.entries) == 0 {
			return nil
		}
		id, tail := r.c.finishPack(b)
		size := int64(b.size + len(tail))
		name := packName(id)
		if err := r.be.Put(ctx, name, b.reader(tail), size); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
		out = append(out, indexPack{id: id, size: size, entries: b.entries})
		written += size
		b = &packBuilder{}
		return nil
	}
	for _, pp := range order {
		if pp.action != packRewrite || pp.missing {
			continue
		}
		name := packName(pp.id)
		obj, err := getObject(ctx, r.be, name)
		if errors.Is(err, storage.ErrNotExist) {
			return nil, 0, corruptf("%s vanished; nothing was deleted", name)
		}
		if err != nil {
			return nil, 0, fmt.Errorf("reading %s: %w", name, err)
		}
		if ID(sha256.Sum256(obj)) != pp.id {
			return nil, 0, corruptf("%s is damaged (its SHA-256 does not match its name); nothing was deleted; run Verify", name)
		}
		// Per frame: copied as it is when every chunk it holds stays,
		// else its kept chunks are compressed again into a new frame.
		perFrame := map[uint32]int{}
		for _, e := range pp.entries {
			perFrame[e.off]++
		}
		memo := frameMemo{c: r.c}
		for i := 0; i < len(pp.used); {
			j := i + 1
			for j < len(pp.used) && pp.used[j].off == pp.used[i].off {
				j++
			}
			group := append([]packEntry(nil), pp.used[i:j]...)
			i = j
			e0 := group[0]
			if e0.end() > int64(len(obj)) {
				return nil, 0, corruptf("chunk %s in %s: beyond the end of the pack; nothing was deleted", e0.id, name)
			}
			stored := obj[e0.off:e0.end()]
			whole := len(group) == perFrame[e0.off]
			var plain []byte
			for k, e := range group {
				data, err := memo.blob(stored, e)
				if err != nil {
					return nil, 0, corruptf("chunk %s in %s: %v; nothing was deleted", e.id, name, err)
				}
				if !whole {
					group[k].inner = uint32(len(plain))
					plain = append(plain, data...)
				}
			}
			if whole {
				b.addFrame(group, stored, nil)
			} else {
				eb := r.c.encodeFrame(plain)
				for k := range group {
					group[k].flags = eb.flags
				}
				b.addFrame(group, eb.body, eb.trailer)
				eb.release()
			}
			if b.size >= r.opts.PackSize {
				if err := flush(); err != nil {
					return nil, 0, err
				}
			}
		}
	}
	if err := flush(); err != nil {
		return nil, 0, err
	}
	return out, written, nil
}

// splitIndex groups packs into index objects of at most max chunks each
// (a pack is never split; an oversized pack gets its own object).
func splitIndex(packs []indexPack, max int) [][]indexPack {
	var out [][]indexPack
	var cur []indexPack
	n := 0
	for _, p := range packs {
		if n > 0 && n+len(p.entries) > max {
			out = append(out, cur)
			cur, n = nil, 0
		}
		cur = append(cur, p)
		n += len(p.entries)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// removeStaleTemp removes temporary files older than StaleTempAge that an
// interrupted write left behind.
func removeStaleTemp(ctx context.Context, be storage.Backend) (int, int64, error) {
	if t, ok := be.(StaleTempRemover); ok {
		return t.RemoveStaleTemp(ctx, StaleTempAge)
	}
	l, ok := be.(*storage.Local)
	if !ok {
		return 0, 0, nil
	}
	// storage.Local writes "<dir>/<folders>/.tmp-<base>-<random>" and
	// renames it over the object; a crash in between leaves the temp file.
	var n int
	var freed int64
	cutoff := time.Now().Add(-StaleTempAge)
	err := filepath.WalkDir(l.Dir(), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() || !strings.HasPrefix(d.Name(), ".tmp-") || !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil || fi.ModTime().After(cutoff) {
			return nil
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		n++
		freed += fi.Size()
		return nil
	})
	return n, freed, err
}
