package repo

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/painel-universal/painel/internal/backup/storage"
)

// VerifyReport is what Verify and VerifyChunks found.
type VerifyReport struct {
	Packs  int   // packs checked
	Chunks int   // chunks checked
	Bytes  int64 // bytes read (readData) or size of the packs checked
	// Problems describe each damage found, naming the object at fault (and
	// the chunk, for chunks). Empty when everything is sound.
	Problems []string
	// UnindexedPacks counts packs that no index object lists: leftovers of
	// interrupted runs, invisible to readers; Prune deletes them. They are
	// not problems.
	UnindexedPacks int
}

// OK reports whether no problem was found.
func (v VerifyReport) OK() bool { return len(v.Problems) == 0 }

// Verify checks the repository as stored and reports every problem found.
// Always: the config and key objects pass their checksums; every index
// object parses and the SHA-256 of its bytes matches its name; every pack an
// index lists exists with the size the index gives; every manifest passes
// its checksum (and authentication, when encrypted). With readData it also
// reads every indexed pack whole, checks its SHA-256 against its name, checks
// its header against the index, and decrypts, decompresses and hashes every
// indexed chunk in it. The error is for failures to do the check (listing,
// I/O), not for damage found.
func (r *Repo) Verify(ctx context.Context, readData bool) (VerifyReport, error) {
	var rep VerifyReport
	problem := func(format string, args ...any) {
		rep.Problems = append(rep.Problems, fmt.Sprintf(format, args...))
	}

	// Config and keys.
	plain := &codec{enc: r.c.enc, dec: r.c.dec} // for the unencrypted config and key envelopes
	if cfg, err := readConfig(ctx, r.be, plain); err != nil {
		if ctx.Err() != nil {
			return rep, ctx.Err()
		}
		problem("config: %v", err)
	} else if cfg.ID != r.cfg.ID || cfg.Encryption != r.cfg.Encryption {
		problem("config: describes another repository (ID %s, encryption %s) than the one opened (ID %s, encryption %s)", cfg.ID, cfg.Encryption, r.cfg.ID, r.cfg.Encryption)
	}
	_, keyNames, err := r.listNames(ctx, "keys/")
	if err != nil {
		return rep, err
	}
	if r.c.encrypted() && len(keyNames) == 0 {
		problem("keys/: no key object: the repository cannot be opened again")
	}
	for _, name := range keyNames {
		if !r.c.encrypted() {
			problem("%s: key object in an unencrypted repository", name)
			continue
		}
		obj, err := getObject(ctx, r.be, name)
		if err != nil {
			if errors.Is(err, storage.ErrNotExist) {
				continue
			}
			return rep, fmt.Errorf("repo: reading %s: %w", name, err)
		}
		if _, err := parseKeyObject(plain, name, obj); err != nil {
			problem("%s: %v", name, err)
		}
	}

	// Index objects.
	good, bad, err := r.readIndexes(ctx)
	if err != nil {
		return rep, err
	}
	for name, e := range bad {
		problem("%s: %v", name, e)
	}
	type packCheck struct {
		id      ID
		size    int64
		entries map[ID]packEntry
		from    string // an index object listing it
	}
	packs := map[ID]*packCheck{}
	var order []ID
	for _, ix := range good {
		for _, p := range ix.packs {
			pc, ok := packs[p.id]
			if !ok {
				pc = &packCheck{id: p.id, size: p.size, entries: map[ID]packEntry{}, from: ix.name}
				packs[p.id] = pc
				order = append(order, p.id)
			} else if pc.size != p.size {
				problem("%s: pack %s has size %d, but %s says %d", ix.name, packName(p.id), p.size, pc.from, pc.size)
			}
			for _, e := range p.entries {
				if old, dup := pc.entries[e.id]; dup && old != e {
					problem("%s: chunk %s of pack %s has a different location than in %s", ix.name, e.id, packName(p.id), pc.from)
				}
				pc.entries[e.id] = e
			}
		}
	}

	// Packs: existence and size.
	sizes, names, err := r.listNames(ctx, "packs/")
	if err != nil {
		return rep, err
	}
	for _, n := range names {
		if id, ok := parsePackName(n); !ok || packs[id] == nil {
			rep.UnindexedPacks++
		}
	}
	var present []*packCheck
	for _, id := range order {
		pc := packs[id]
		name := packName(id)
		size, ok := sizes[name]
		switch {
		case !ok:
			problem("%s: missing (listed by %s with %d chunks)", name, pc.from, len(pc.entries))
			continue
		case size != pc.size:
			problem("%s: size %d, but %s says %d", name, size, pc.from, pc.size)
		}
		present = append(present, pc)
		rep.Packs++
		rep.Chunks += len(pc.entries)
		if !readData {
			rep.Bytes += size
		}
	}

	// Manifests.
	mnames, err := r.ListManifests(ctx)
	if err != nil {
		return rep, err
	}
	for _, n := range mnames {
		if _, err := r.LoadManifest(ctx, n); err != nil {
			if errors.Is(err, ErrCorrupt) {
				problem("%s%s: %v", manifestPrefix, n, err)
			} else if !errors.Is(err, ErrNotFound) {
				return rep, err
			}
		}
	}

	if readData {
		rep.Chunks = 0
		var mu sync.Mutex
		var firstErr error
		parallel(len(present), readWorkers, func(i int) {
			pc := present[i]
			probs, chunks, n, err := r.checkPack(ctx, pc.id, pc.entries)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			rep.Problems = append(rep.Problems, probs...)
			rep.Chunks += chunks
			rep.Bytes += n
		})
		if firstErr != nil {
			return rep, firstErr
		}
	}
	sort.Strings(rep.Problems)
	return rep, nil
}

// checkPack reads a whole pack and checks it: its hash against its name, its
// header against the index entries, and every indexed chunk. It returns the
// problems, the number of chunks checked and bytes read.
func (r *Repo) checkPack(ctx context.Context, id ID, entries map[ID]packEntry) ([]string, int, int64, error) {
	name := packName(id)
	obj, err := getObject(ctx, r.be, name)
	if errors.Is(err, storage.ErrNotExist) {
		return []string{fmt.Sprintf("%s: missing", name)}, 0, 0, nil
	}
	if err != nil {
		return nil, 0, 0, fmt.Errorf("repo: reading %s: %w", name, err)
	}
	var probs []string
	if ID(sha256.Sum256(obj)) != id {
		probs = append(probs, fmt.Sprintf("%s: the SHA-256 of its content does not match its name (pack damaged)", name))
	}
	hdr, area, err := r.c.readPackHeader(obj)
	if err != nil {
		probs = append(probs, fmt.Sprintf("%s: %v", name, err))
		area = int64(len(obj))
	} else {
		inHdr := make(map[ID]packEntry, len(hdr))
		for _, e := range hdr {
			inHdr[e.id] = e
		}
		for _, e := range entries {
			if h, ok := inHdr[e.id]; !ok {
				probs = append(probs, fmt.Sprintf("%s: chunk %s is in the index but not in the pack header", name, e.id))
			} else if h != e {
				probs = append(probs, fmt.Sprintf("%s: chunk %s: pack header and index disagree on its location", name, e.id))
			}
		}
	}
	sorted := make([]packEntry, 0, len(entries))
	for _, e := range entries {
		sorted = append(sorted, e)
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].off < sorted[j].off })
	memo := frameMemo{c: r.c}
	for _, e := range sorted {
		if e.end() > area {
			probs = append(probs, fmt.Sprintf("chunk %s in %s: beyond the end of the pack's data", e.id, name))
			continue
		}
		if _, err := memo.blob(obj[e.off:e.end()], e); err != nil {
			probs = append(probs, fmt.Sprintf("chunk %s in %s: %v", e.id, name, err))
		}
	}
	return probs, len(entries), int64(len(obj)), nil
}

// VerifyChunks reads and checks only the given chunks (decrypt, decompress,
// SHA-256), as restoring or verifying one backup needs. Problems name each
// damaged or missing chunk and its pack.
func (r *Repo) VerifyChunks(ctx context.Context, ids []ID) (VerifyReport, error) {
	var rep VerifyReport
	st, err := r.readChunks(ctx, ids, nil, func(id ID, _ []int32, pack string, _ []byte, err error) error {
		rep.Chunks++
		if err == nil {
			return nil
		}
		if errors.Is(err, ErrCorrupt) || errors.Is(err, ErrNotFound) {
			rep.Problems = append(rep.Problems, strings.TrimPrefix(err.Error(), "repo: "))
			return nil
		}
		return err
	})
	rep.Packs = st.packs
	rep.Bytes = st.bytes
	sort.Strings(rep.Problems)
	return rep, err
}
