package repo

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sort"

	"github.com/painel-universal/painel/internal/backup/storage"
)

// RebuildReport says what RebuildIndex did.
type RebuildReport struct {
	PacksAdded     int      // packs read from storage and added to the index
	ChunksAdded    int      // chunks of those packs
	IndexesDeleted int      // damaged index objects deleted
	Problems       []string // packs that failed their checks and were left out
}

// RebuildIndex repairs the index from the packs themselves (every pack
// carries a header listing its chunks): each pack that no readable index
// object lists is read whole and checked (SHA-256 against its name, header,
// every chunk), and the chunks of the sound ones are written in a new index
// object; then the damaged index objects are deleted. Packs that fail their
// checks are left out (and reported); Prune deletes them later. Packs of
// interrupted runs come back as well; their chunks are garbage for the next
// Prune. Like Prune, it must not run concurrently with a backup.
func (r *Repo) RebuildIndex(ctx context.Context) (RebuildReport, error) {
	var rep RebuildReport
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	if err := r.flushLocked(ctx); err != nil {
		return rep, fmt.Errorf("repo: rebuild index: %w", err)
	}
	good, bad, err := r.readIndexes(ctx)
	if err != nil {
		return rep, fmt.Errorf("repo: rebuild index: %w", err)
	}
	listed := map[ID]bool{}
	for _, ix := range good {
		for _, p := range ix.packs {
			listed[p.id] = true
		}
	}
	sizes, names, err := r.listNames(ctx, "packs/")
	if err != nil {
		return rep, fmt.Errorf("repo: rebuild index: %w", err)
	}
	var found []indexPack
	for _, n := range names {
		id, ok := parsePackName(n)
		if !ok || listed[id] {
			continue
		}
		obj, err := getObject(ctx, r.be, n)
		if errors.Is(err, storage.ErrNotExist) {
			continue
		}
		if err != nil {
			return rep, fmt.Errorf("repo: rebuild index: reading %s: %w", n, err)
		}
		if ID(sha256.Sum256(obj)) != id {
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s: the SHA-256 of its content does not match its name (pack damaged)", n))
			continue
		}
		entries, _, err := r.c.readPackHeader(obj)
		if err != nil {
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s: %v", n, err))
			continue
		}
		sound := true
		memo := frameMemo{c: r.c}
		for _, e := range entries {
			if _, err := memo.blob(obj[e.off:e.end()], e); err != nil {
				rep.Problems = append(rep.Problems, fmt.Sprintf("chunk %s in %s: %v", e.id, n, err))
				sound = false
			}
		}
		if !sound {
			continue
		}
		found = append(found, indexPack{id: id, size: sizes[n], entries: entries})
		rep.PacksAdded++
		rep.ChunksAdded += len(entries)
	}
	written := map[string]bool{}
	for _, group := range splitIndex(found, maxIndexEntries) {
		name, err := r.writeIndex(ctx, group)
		if err != nil {
			return rep, fmt.Errorf("repo: rebuild index: %w", err)
		}
		written[name] = true
	}
	var badNames []string
	for n := range bad {
		// Unencrypted, the rebuilt object can be the damaged one's
		// original bytes, hence its name: it was just rewritten whole.
		if !written[n] {
			badNames = append(badNames, n)
		}
	}
	sort.Strings(badNames)
	for _, n := range badNames {
		if err := r.be.Delete(ctx, n); err != nil {
			return rep, fmt.Errorf("repo: rebuild index: deleting %s: %w", n, err)
		}
		rep.IndexesDeleted++
	}
	if err := r.loadIndex(ctx); err != nil {
		return rep, fmt.Errorf("repo: rebuild index: %w", err)
	}
	return rep, nil
}
