package repo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/painel-universal/painel/internal/backup/storage"
)

func TestRoundTrip(t *testing.T) {
	modes(t, func(t *testing.T, pass string) {
		backends(t, func(t *testing.T, be storage.Backend) {
			ctx := context.Background()
			o := Options{Passphrase: pass, PackSize: 64 << 10}
			r := mustInit(t, be, o)
			chunks := [][]byte{
				{},
				{42},
				textBytes(1, 4096),
				randBytes(2, 4096),
				make([]byte, 100<<10), // zeros
				randBytes(3, 1<<20),   // larger than a pack
				textBytes(4, 300<<10),
			}
			ids := make([]ID, len(chunks))
			var added int64
			for i, c := range chunks {
				id, n, err := r.Put(ctx, c)
				if err != nil {
					t.Fatal(err)
				}
				if id != Hash(c) {
					t.Fatalf("chunk %d: ID %s, want SHA-256 %s", i, id, Hash(c))
				}
				if n <= 0 && len(c) > 0 {
					t.Fatalf("chunk %d: added %d", i, n)
				}
				added += n
				ids[i] = id
			}
			// Readable before Flush (from the open pack or written packs).
			for i, c := range chunks {
				checkGet(t, r, ids[i], c)
			}
			mustFlush(t, r)
			for i, c := range chunks {
				checkGet(t, r, ids[i], c)
			}
			nChunks, nPacks, stored := r.Stats()
			if nChunks != len(chunks) || nPacks < 2 || stored < added {
				t.Fatalf("Stats = %d chunks, %d packs, %d bytes; added %d", nChunks, nPacks, stored, added)
			}
			// Compression pays: the zeros and text are stored much smaller.
			if added > int64(4096+1<<20+4096+100<<10/10+300<<10/2) {
				t.Fatalf("added %d bytes: compression did not work", added)
			}
			if err := r.SaveManifest(ctx, "b-1", []byte(`{"id":"b-1"}`)); err != nil {
				t.Fatal(err)
			}
			if err := r.SaveManifest(ctx, "b-2", textBytes(9, 50000)); err != nil {
				t.Fatal(err)
			}

			r2 := mustOpen(t, be, o)
			for i, c := range chunks {
				checkGet(t, r2, ids[i], c)
				if !r2.Has(ids[i]) {
					t.Fatalf("Has(%s) false after reopen", ids[i])
				}
			}
			if c2, p2, s2 := r2.Stats(); c2 != nChunks || p2 != nPacks || s2 != stored {
				t.Fatalf("Stats after reopen = %d,%d,%d; before %d,%d,%d", c2, p2, s2, nChunks, nPacks, stored)
			}
			names, err := r2.ListManifests(ctx)
			if err != nil || strings.Join(names, ",") != "b-1,b-2" {
				t.Fatalf("ListManifests = %v, %v", names, err)
			}
			m, err := r2.LoadManifest(ctx, "b-2")
			if err != nil || !bytes.Equal(m, textBytes(9, 50000)) {
				t.Fatalf("LoadManifest: %v", err)
			}
			if err := r2.DeleteManifest(ctx, "b-1"); err != nil {
				t.Fatal(err)
			}
			if _, err := r2.LoadManifest(ctx, "b-1"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("LoadManifest of deleted: %v, want ErrNotFound", err)
			}
			if err := r2.SaveManifest(ctx, "Bad_Name", nil); err == nil {
				t.Fatal("SaveManifest accepted an invalid name")
			}
			if _, err := r2.Get(ctx, Hash([]byte("never stored"))); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Get of unknown chunk: %v, want ErrNotFound", err)
			}
			// GetMany returns each distinct chunk once.
			seen := map[ID]int{}
			err = r2.GetMany(ctx, append(ids, ids[2], ids[3]), func(id ID, data []byte) error {
				seen[id]++
				if Hash(data) != id {
					t.Errorf("GetMany gave wrong data for %s", id)
				}
				return nil
			})
			if err != nil || len(seen) != len(ids) {
				t.Fatalf("GetMany: %v, %d distinct chunks", err, len(seen))
			}
			for id, n := range seen {
				if n != 1 {
					t.Fatalf("GetMany called fn %d times for %s", n, id)
				}
			}
			rep := mustVerifyClean(t, r2, true)
			if rep.Chunks != len(chunks) || rep.Packs != nPacks || rep.Bytes != stored {
				t.Fatalf("Verify report %+v; want %d chunks, %d packs, %d bytes", rep, len(chunks), nPacks, stored)
			}
			vc, err := r2.VerifyChunks(ctx, ids)
			if err != nil || !vc.OK() || vc.Chunks != len(ids) {
				t.Fatalf("VerifyChunks: %+v, %v", vc, err)
			}
			if pass != "" {
				// Nothing stored holds the plaintext.
				names, _ := listAll(t, be)
				for _, n := range names {
					rc, err := be.Get(ctx, n)
					if err != nil {
						t.Fatal(err)
					}
					b, _ := readAll(rc, -1)
					if bytes.Contains(b, chunks[2][:64]) || bytes.Contains(b, []byte(`"id":"b-1"`)) || bytes.Contains(b, ids[3][:]) {
						t.Fatalf("%s holds plaintext or chunk IDs in an encrypted repository", n)
					}
				}
			}
		})
	})
}

func TestDedup(t *testing.T) {
	modes(t, func(t *testing.T, pass string) {
		ctx := context.Background()
		be := newMem()
		o := Options{Passphrase: pass, PackSize: 16 << 10}
		r := mustInit(t, be, o)
		data := textBytes(5, 10000)
		id, n, err := r.Put(ctx, data)
		if err != nil || n == 0 {
			t.Fatalf("first Put: %d, %v", n, err)
		}
		// Same data again: in the open pack.
		if id2, n2, err := r.Put(ctx, data); err != nil || n2 != 0 || id2 != id {
			t.Fatalf("second Put (open pack): added %d, %v", n2, err)
		}
		// Fill the pack so it is written but not indexed yet.
		for i := 0; i < 5; i++ {
			mustPut(t, r, randBytes(uint64(100+i), 5000))
		}
		if _, n2, _ := r.Put(ctx, data); n2 != 0 {
			t.Fatalf("Put against a written pack: added %d", n2)
		}
		mustFlush(t, r)
		if _, n2, _ := r.Put(ctx, data); n2 != 0 {
			t.Fatalf("Put against the index: added %d", n2)
		}
		before := totalBytes(t, be)
		r2 := mustOpen(t, be, o)
		if _, n2, _ := r2.Put(ctx, data); n2 != 0 {
			t.Fatalf("Put after reopen: added %d", n2)
		}
		mustFlush(t, r2)
		if after := totalBytes(t, be); after != before {
			t.Fatalf("deduplicated Put and Flush changed the store: %d -> %d bytes", before, after)
		}
	})
}

func TestKeys(t *testing.T) {
	ctx := context.Background()
	be := newMem()
	if _, err := Open(ctx, be, Options{}); !errors.Is(err, ErrNotInitialised) {
		t.Fatalf("Open of empty backend: %v, want ErrNotInitialised", err)
	}
	r := mustInit(t, be, Options{Passphrase: "right"})
	id := mustPut(t, r, []byte("secret"))
	mustFlush(t, r)
	if _, err := Init(ctx, be, Options{Passphrase: "right"}); !errors.Is(err, ErrAlreadyInitialised) {
		t.Fatalf("second Init: %v", err)
	}

	_, err := Open(ctx, be, Options{Passphrase: "wrong"})
	if !errors.Is(err, ErrWrongKey) || errors.Is(err, ErrPassphraseRequired) {
		t.Fatalf("Open with wrong passphrase: %v, want ErrWrongKey", err)
	}
	if !strings.Contains(err.Error(), "wrong passphrase") || !strings.Contains(err.Error(), "memory") {
		t.Fatalf("unclear message: %v", err)
	}
	_, err = Open(ctx, be, Options{})
	if !errors.Is(err, ErrPassphraseRequired) || !errors.Is(err, ErrWrongKey) {
		t.Fatalf("Open without passphrase: %v, want ErrPassphraseRequired", err)
	}
	if !strings.Contains(err.Error(), "encrypted") {
		t.Fatalf("unclear message: %v", err)
	}
	r2, err := OpenOrInit(ctx, be, Options{Passphrase: "right"})
	if err != nil {
		t.Fatal(err)
	}
	checkGet(t, r2, id, []byte("secret"))
	if !r2.Encrypted() || r2.Config().Encryption != "aes-256-gcm" || r2.Config().ID != r.Config().ID {
		t.Fatalf("config %+v", r2.Config())
	}

	// An unencrypted repository refuses a passphrase (the caller thinks it
	// is encrypted).
	plain := newMem()
	mustInit(t, plain, Options{})
	if _, err := Open(ctx, plain, Options{Passphrase: "x"}); err == nil || !strings.Contains(err.Error(), "not encrypted") {
		t.Fatalf("Open of unencrypted repository with a passphrase: %v", err)
	}
	// A config edited to say "none" does not make the encrypted one open.
	snap := be.snapshot()
	cfg := r.Config()
	cfg.Encryption = encNone
	cfg.KDF = nil
	putConfig(t, be, cfg)
	if _, err := Open(ctx, be, Options{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open of a downgraded config: %v", err)
	}
	be.restore(snap)

	// Init over data without config is refused.
	delete(be.objs, "config")
	if _, err := OpenOrInit(ctx, be, Options{Passphrase: "new"}); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Fatalf("Init over orphaned data: %v", err)
	}
}

func putConfig(t *testing.T, be storage.Backend, cfg Config) {
	t.Helper()
	js := fmt.Appendf(nil, `{"version":%d,"id":%q,"encryption":%q,"compression":"zstd"}`, cfg.Version, cfg.ID, cfg.Encryption)
	c := &codec{enc: encoderFor(2), dec: sharedDecoder()}
	if err := putObject(context.Background(), be, "config", c.seal(kindConfig, "config", js, false, false)); err != nil {
		t.Fatal(err)
	}
}

func TestReopenSeesOnlyFlushed(t *testing.T) {
	modes(t, func(t *testing.T, pass string) {
		ctx := context.Background()
		be := newMem()
		o := Options{Passphrase: pass, PackSize: 8 << 10}
		r := mustInit(t, be, o)
		a := randBytes(1, 3000)
		ida := mustPut(t, r, a)
		mustFlush(t, r)
		// b and c fill a pack that gets written, d stays in the open pack:
		// none is indexed.
		var unflushed []ID
		for i := 0; i < 4; i++ {
			unflushed = append(unflushed, mustPut(t, r, randBytes(uint64(10+i), 3000)))
		}
		if !r.Has(unflushed[0]) || !r.Has(unflushed[3]) {
			t.Fatal("Has false for pending chunks in the same Repo")
		}
		r2 := mustOpen(t, be, o)
		checkGet(t, r2, ida, a)
		for _, id := range unflushed {
			if r2.Has(id) {
				t.Fatalf("reopened repository sees unflushed chunk %s", id)
			}
			if _, err := r2.Get(ctx, id); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Get of unflushed chunk: %v", err)
			}
		}
		rep := mustVerifyClean(t, r2, true)
		if rep.UnindexedPacks != 1 {
			t.Fatalf("UnindexedPacks = %d, want 1 (the pack written before Flush)", rep.UnindexedPacks)
		}
		// Prune removes the invisible pack.
		pr, err := r2.Prune(ctx, func(ID) bool { return true })
		if err != nil {
			t.Fatal(err)
		}
		if pr.PacksDeleted != 1 {
			t.Fatalf("Prune: %+v, want the unindexed pack deleted", pr)
		}
		rep = mustVerifyClean(t, r2, true)
		if rep.UnindexedPacks != 0 {
			t.Fatalf("after Prune: %+v", rep)
		}
		checkGet(t, r2, ida, a)
	})
}

func TestConcurrentPut(t *testing.T) {
	modes(t, func(t *testing.T, pass string) {
		ctx := context.Background()
		be := newMem()
		o := Options{Passphrase: pass, PackSize: 32 << 10}
		r := mustInit(t, be, o)
		const distinct = 300
		pool := make([][]byte, distinct)
		for i := range pool {
			if i%2 == 0 {
				pool[i] = randBytes(uint64(i), 1000+i*7)
			} else {
				pool[i] = textBytes(uint64(i), 1000+i*7)
			}
		}
		var addedCount, addedBytes atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, 100)
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				for k := 0; k < distinct; k++ {
					c := pool[(k*(g+1)*7+g)%distinct]
					id, n, err := r.Put(ctx, c)
					if err != nil {
						errs <- err
						return
					}
					if n > 0 {
						addedCount.Add(1)
						addedBytes.Add(n)
					}
					if !r.Has(id) {
						errs <- fmt.Errorf("Has false right after Put")
						return
					}
					if k%37 == 0 {
						got, err := r.Get(ctx, id)
						if err != nil || !bytes.Equal(got, c) {
							errs <- fmt.Errorf("concurrent Get: %v", err)
							return
						}
					}
					if k%101 == g {
						if err := r.Flush(ctx); err != nil {
							errs <- err
							return
						}
					}
				}
			}(g)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		mustFlush(t, r)
		// The pool is covered: every chunk put exactly once with added > 0.
		seen := map[ID]bool{}
		for g := 0; g < 8; g++ {
			for k := 0; k < distinct; k++ {
				seen[Hash(pool[(k*(g+1)*7+g)%distinct])] = true
			}
		}
		if int(addedCount.Load()) != len(seen) {
			t.Fatalf("%d Puts reported added bytes for %d distinct chunks", addedCount.Load(), len(seen))
		}
		r2 := mustOpen(t, be, o)
		if n, _, _ := r2.Stats(); n != len(seen) {
			t.Fatalf("Stats: %d chunks, want %d", n, len(seen))
		}
		for _, c := range pool {
			if seen[Hash(c)] {
				checkGet(t, r2, Hash(c), c)
			}
		}
		rep := mustVerifyClean(t, r2, true)
		// Blob bytes = added bytes (pack size = blobs + headers).
		var blobBytes int64
		for id := range seen {
			blobBytes += int64(r2.testLoc(id).length)
		}
		if blobBytes != addedBytes.Load() || rep.UnindexedPacks != 0 {
			t.Fatalf("added %d bytes, blobs take %d; report %+v", addedBytes.Load(), blobBytes, rep)
		}
	})
}

func TestKDFCost(t *testing.T) {
	ctx := context.Background()
	old := kdfForInit
	kdfForInit = DefaultKDF
	defer func() { kdfForInit = old }()
	be := newMem()
	r := mustInit(t, be, Options{Passphrase: "pw"})
	if k := r.Config().KDF; k == nil || *k != (KDFParams{Algorithm: "argon2id", Time: 3, MemoryKiB: 64 << 10, Threads: 2}) {
		t.Fatalf("KDF params %+v", k)
	}
	best := time.Hour
	for i := 0; i < 3; i++ {
		start := time.Now()
		mustOpen(t, be, Options{Passphrase: "pw"})
		best = min(best, time.Since(start))
	}
	t.Logf("Open with argon2id t=3 m=64MiB p=2: %v", best)
	if !raceEnabled && best > 500*time.Millisecond {
		t.Errorf("Open takes %v, more than 0.5 s", best)
	}
	start := time.Now()
	_, err := Open(ctx, be, Options{Passphrase: "nope"})
	if !errors.Is(err, ErrWrongKey) {
		t.Fatal(err)
	}
	t.Logf("Open with a wrong passphrase: %v", time.Since(start))
}
