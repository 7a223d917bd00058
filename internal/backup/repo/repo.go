package repo

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/painel-universal/painel/internal/backup/storage"
)

const (
	// FormatVersion is the repository format that this package writes and
	// reads (the "version" field of the config object).
	FormatVersion = 2

	// DefaultPackSize is the default target size of a pack.
	DefaultPackSize = 16 << 20

	// DefaultMaxUnused is the default for Options.MaxUnused.
	DefaultMaxUnused = 0.1

	minPackSize  = 1 << 10
	maxPackSize  = 1 << 30
	maxChunkSize = 1 << 30 // largest chunk Put accepts

	// maxIndexEntries caps the chunks of one index object that Prune writes.
	maxIndexEntries = 250_000
)

// Options configure a Repo. The zero value is an unencrypted repository with
// the defaults.
type Options struct {
	// Passphrase enables encryption: "" = no encryption; else AES-256-GCM
	// with a random master key wrapped by an argon2id-derived key. Only Init
	// chooses; Open must be given the passphrase of an encrypted repository
	// and none for an unencrypted one.
	Passphrase string
	// PackSize is the target pack size, default 16 MiB (DefaultPackSize).
	PackSize int
	// Level is the zstd encoder level (a zstd.EncoderLevel: 1 fastest ... 4
	// best), default (0) zstd.SpeedDefault.
	Level int
	// MaxUnused is the fraction of a pack's bytes that may be unused (held
	// by removed chunks) before Prune rewrites the pack; 0 means
	// DefaultMaxUnused, a negative value rewrites every pack with any removed
	// chunk. Removed chunks drop out of the index at once either way.
	MaxUnused float64
	// ChunkerPolynomial is recorded in the config by Init for the chunker
	// (0: none); Open ignores it (see Repo.Config).
	ChunkerPolynomial uint64
	// WhileIndexLoads, when set, is run by Open on the opened repository while
	// the index objects (listed first) are read, on another goroutine: it may
	// list and load manifests (a service reads its catalogue in the meantime),
	// nothing that reads, writes or looks up chunks. Open returns its error,
	// if any; either half failing cancels the other's context.
	WhileIndexLoads func(ctx context.Context, r *Repo) error
}

func (o Options) normalise() (Options, zstd.EncoderLevel, error) {
	if o.PackSize == 0 {
		o.PackSize = DefaultPackSize
	}
	if o.PackSize < minPackSize || o.PackSize > maxPackSize {
		return o, 0, fmt.Errorf("repo: pack size %d out of range [%d, %d]", o.PackSize, minPackSize, maxPackSize)
	}
	level := zstd.EncoderLevel(o.Level)
	if o.Level == 0 {
		level = zstd.SpeedDefault
	}
	if level < zstd.SpeedFastest || level > zstd.SpeedBestCompression {
		return o, 0, fmt.Errorf("repo: zstd level %d out of range [%d, %d]", o.Level, zstd.SpeedFastest, zstd.SpeedBestCompression)
	}
	if o.MaxUnused == 0 {
		o.MaxUnused = DefaultMaxUnused
	}
	return o, level, nil
}

// Config is the content of the config object: what Init decided.
type Config struct {
	Version           int       `json:"version"`
	ID                string    `json:"id"` // 64 random hexadecimal digits
	Created           time.Time `json:"created"`
	ChunkerPolynomial uint64    `json:"chunker_polynomial,omitempty"`
	Encryption        string    `json:"encryption"`  // "aes-256-gcm" or "none"
	Compression       string    `json:"compression"` // "zstd"
	// KDF are the parameters new keys are made with (each key object records
	// its own); nil when not encrypted.
	KDF *KDFParams `json:"kdf,omitempty"`
}

const (
	encAESGCM = "aes-256-gcm"
	encNone   = "none"
)

// packInfo is a pack known to this Repo.
type packInfo struct {
	id      ID
	size    int64
	indexed bool // listed by an index object (not only written by us)
}

// blobLoc is where a chunk is stored.
type blobLoc struct {
	pack   uint32 // index into Repo.packs
	off    uint32
	length uint32
	plain  uint32
	flags  uint8
	inner  uint32
}

func locOf(pack uint32, e packEntry) blobLoc {
	return blobLoc{pack: pack, off: e.off, length: e.length, plain: e.plain, flags: e.flags, inner: e.inner}
}

// entry is the pack entry of chunk id at loc.
func (l blobLoc) entry(id ID) packEntry {
	return packEntry{id: id, off: l.off, length: l.length, plain: l.plain, flags: l.flags, inner: l.inner}
}

// pendingBlob is a chunk accepted by Put whose index is not written yet:
// in a pack being built or uploaded (b != nil), or in a written pack.
type pendingBlob struct {
	b    *packBuilder
	e    packEntry
	pack uint32 // valid when b == nil
}

// writtenPack is a pack stored by Put or Flush that no index lists yet.
type writtenPack struct {
	num     uint32
	entries []packEntry
}

// Repo is a content-addressed chunk store on a storage.Backend. Its methods
// are safe for concurrent use, except that Prune must not run concurrently
// with writers in this or another process (the caller holds the lock).
type Repo struct {
	be   storage.Backend
	opts Options
	cfg  Config
	c    *codec

	flushMu sync.Mutex // serialises Flush, Prune and RebuildIndex

	mu      sync.Mutex
	cond    *sync.Cond // signalled when uploading decreases
	packs   []packInfo
	packNum map[ID]uint32
	// idx lists the chunks of the index objects read at Open (or the last reload); added, those
	// indexed since by this Repo's flushes, kept apart so that idx, sized once for what was
	// read, never grows (see loadIndexThen).
	idx          map[ID]blobLoc
	added        map[ID]blobLoc
	loadProblems []string // index objects that could not be read at Open
	open         *packBuilder
	pending      map[ID]pendingBlob
	written      []writtenPack
	uploading    int
	failed       error // a pack upload failed; reported by the next Flush

	semOnce sync.Once
	sem     chan struct{} // bounds the frames Batches compress at once
}

func newRepo(be storage.Backend, opts Options, cfg Config, masterKey []byte, level zstd.EncoderLevel) (*Repo, error) {
	c, err := newCodec(masterKey, level)
	if err != nil {
		return nil, err
	}
	r := &Repo{be: be, opts: opts, cfg: cfg, c: c}
	r.cond = sync.NewCond(&r.mu)
	r.resetIndex()
	return r, nil
}

func (r *Repo) resetIndex() {
	r.packs = nil
	r.packNum = map[ID]uint32{}
	r.idx = map[ID]blobLoc{}
	r.added = map[ID]blobLoc{}
	r.loadProblems = nil
	r.pending = map[ID]pendingBlob{}
}

// Init creates a repository on be, which must hold none, and returns it
// opened. With o.Passphrase it is encrypted.
func Init(ctx context.Context, be storage.Backend, o Options) (*Repo, error) {
	opts, level, err := o.normalise()
	if err != nil {
		return nil, err
	}
	if _, err := be.Stat(ctx, "config"); err == nil {
		return nil, fmt.Errorf("%w: %s already holds a config object", ErrAlreadyInitialised, be.Location())
	} else if !errors.Is(err, storage.ErrNotExist) {
		return nil, fmt.Errorf("repo: init: %w", err)
	}
	// Without config nothing is readable; but refuse to bury data (a lost
	// config object must be restored, not replaced).
	var found string
	for _, prefix := range []string{"index/", "packs/", "manifests/"} {
		err := be.List(ctx, prefix, func(name string, _ int64) error {
			found = name
			return errStop
		})
		if err != nil && err != errStop {
			return nil, fmt.Errorf("repo: init: %w", err)
		}
		if found != "" {
			return nil, fmt.Errorf("repo: init: %s holds repository objects (%s) but no config object; refusing to initialise over them", be.Location(), found)
		}
	}
	var rnd [32]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, err
	}
	cfg := Config{
		Version:           FormatVersion,
		ID:                ID(rnd).String(),
		Created:           time.Now().UTC().Truncate(time.Second),
		ChunkerPolynomial: opts.ChunkerPolynomial,
		Encryption:        encNone,
		Compression:       "zstd",
	}
	plain, err := newCodec(nil, level)
	if err != nil {
		return nil, err
	}
	var mk []byte
	if opts.Passphrase != "" {
		// Keys left by an interrupted Init belong to no repository: remove
		// them (they could not open this one anyway: their additional data
		// names another repository ID).
		var stale []string
		if err := be.List(ctx, "keys/", func(name string, _ int64) error {
			stale = append(stale, name)
			return nil
		}); err != nil {
			return nil, fmt.Errorf("repo: init: %w", err)
		}
		for _, n := range stale {
			if err := be.Delete(ctx, n); err != nil {
				return nil, fmt.Errorf("repo: init: %w", err)
			}
		}
		kdf := kdfForInit
		cfg.Encryption = encAESGCM
		cfg.KDF = &kdf
		mk = make([]byte, 32)
		if _, err := rand.Read(mk); err != nil {
			return nil, err
		}
		name, obj, err := newKeyObject(plain, cfg.ID, mk, opts.Passphrase, kdf)
		if err != nil {
			return nil, err
		}
		if err := putObject(ctx, be, name, obj); err != nil {
			return nil, fmt.Errorf("repo: init: %w", err)
		}
	}
	js, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	// The config object is written last: it marks the repository as
	// initialised.
	if err := putObject(ctx, be, "config", plain.seal(kindConfig, "config", js, false, false)); err != nil {
		return nil, fmt.Errorf("repo: init: %w", err)
	}
	return newRepo(be, opts, cfg, mk, level)
}

var errStop = errors.New("stop")

// Open opens the repository on be: it reads the config, unlocks the master
// key with o.Passphrase (ErrWrongKey if no key opens with it,
// ErrPassphraseRequired if the repository is encrypted and none is given)
// and loads the whole index into memory. Index objects that fail their
// checks do not stop Open: Verify reports them, Get of a chunk that is then
// missing returns ErrCorrupt, Prune refuses to run, and RebuildIndex repairs
// the index from the packs.
func Open(ctx context.Context, be storage.Backend, o Options) (*Repo, error) {
	opts, level, err := o.normalise()
	if err != nil {
		return nil, err
	}
	plain, err := newCodec(nil, level)
	if err != nil {
		return nil, err
	}
	cfg, err := readConfig(ctx, be, plain)
	if err != nil {
		return nil, err
	}
	var mk []byte
	switch cfg.Encryption {
	case encNone:
		if opts.Passphrase != "" {
			return nil, fmt.Errorf("repo: the repository at %s is not encrypted, but a passphrase was given; refusing to use it without encryption", be.Location())
		}
		// A config edited to say "none" must not make an encrypted
		// repository look readable.
		var key string
		if err := be.List(ctx, "keys/", func(name string, _ int64) error { key = name; return errStop }); err != nil && err != errStop {
			return nil, fmt.Errorf("repo: open: %w", err)
		}
		if key != "" {
			return nil, corruptf("config says the repository at %s is not encrypted, but it holds key object %s", be.Location(), key)
		}
	case encAESGCM:
		if opts.Passphrase == "" {
			return nil, fmt.Errorf("%w: %s", ErrPassphraseRequired, be.Location())
		}
		mk, err = unlock(ctx, be, plain, cfg.ID, opts.Passphrase)
		if err != nil {
			return nil, err
		}
	}
	r, err := newRepo(be, opts, cfg, mk, level)
	if err != nil {
		return nil, err
	}
	if opts.WhileIndexLoads == nil {
		if err := r.loadIndex(ctx); err != nil {
			return nil, err
		}
		return r, nil
	}
	// The hook starts once the index objects are listed: a backup writes its index before
	// its manifest, so every manifest the hook sees has its chunks in an index object read
	// here. The first error stops the other half.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var alongside error
	var done chan struct{}
	err = r.loadIndexThen(ctx, func() {
		done = make(chan struct{})
		go func() {
			defer close(done)
			if alongside = opts.WhileIndexLoads(ctx, r); alongside != nil {
				cancel()
			}
		}()
	})
	if err != nil {
		cancel()
	}
	if done != nil {
		<-done
	}
	if alongside != nil && (err == nil || errors.Is(err, context.Canceled)) {
		err = alongside
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

// OpenOrInit opens the repository on be, initialising it first when be
// holds none.
func OpenOrInit(ctx context.Context, be storage.Backend, o Options) (*Repo, error) {
	r, err := Open(ctx, be, o)
	if errors.Is(err, ErrNotInitialised) {
		return Init(ctx, be, o)
	}
	return r, err
}

func readConfig(ctx context.Context, be storage.Backend, plain *codec) (Config, error) {
	var cfg Config
	obj, err := getObject(ctx, be, "config")
	if errors.Is(err, storage.ErrNotExist) {
		return cfg, fmt.Errorf("%w: no config object in %s", ErrNotInitialised, be.Location())
	}
	if err != nil {
		return cfg, fmt.Errorf("repo: reading config: %w", err)
	}
	payload, err := plain.open(kindConfig, "config", obj, false)
	if err != nil {
		return cfg, fmt.Errorf("repo: config: %w", err)
	}
	if err := json.Unmarshal(payload, &cfg); err != nil {
		return cfg, corruptf("config: invalid JSON: %v", err)
	}
	if cfg.Version != FormatVersion {
		return cfg, fmt.Errorf("repo: config: unsupported repository version %d (this program reads version %d)", cfg.Version, FormatVersion)
	}
	if _, ok := parseLowerHexID(cfg.ID); !ok {
		return cfg, corruptf("config: invalid repository ID %q", cfg.ID)
	}
	switch cfg.Encryption {
	case encNone:
	case encAESGCM:
		if cfg.KDF == nil {
			return cfg, corruptf("config: encrypted but no key derivation parameters")
		}
	default:
		return cfg, corruptf("config: unknown encryption %q", cfg.Encryption)
	}
	if cfg.Compression != "zstd" {
		return cfg, corruptf("config: unknown compression %q", cfg.Compression)
	}
	return cfg, nil
}

// Config returns the repository's configuration.
func (r *Repo) Config() Config { return r.cfg }

// Backend returns the backend the repository is stored on.
func (r *Repo) Backend() storage.Backend { return r.be }

// Encrypted reports whether the repository is encrypted.
func (r *Repo) Encrypted() bool { return r.c.encrypted() }

// getObject reads a whole object.
func getObject(ctx context.Context, be storage.Backend, name string) ([]byte, error) {
	rc, err := be.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	// A local file knows its size: read it in one buffer instead of growing one.
	if st, ok := rc.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if fi, err := st.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() <= maxObject {
			return readAll(rc, fi.Size())
		}
	}
	return readAll(rc, -1)
}

func putObject(ctx context.Context, be storage.Backend, name string, obj []byte) error {
	return be.Put(ctx, name, bytes.NewReader(obj), int64(len(obj)))
}

// indexObject is a parsed index object.
type indexObject struct {
	name  string
	size  int64
	packs []indexPack
}

// readIndexObject reads one index object and checks it: its name is the
// SHA-256 of its bytes, its envelope and its content parse.
func (r *Repo) readIndexObject(ctx context.Context, name string) (indexObject, error) {
	ix := indexObject{name: name}
	obj, err := getObject(ctx, r.be, name)
	if err != nil {
		return ix, err
	}
	ix.size = int64(len(obj))
	if indexName(obj) != name {
		return ix, corruptf("%s: the SHA-256 of its content does not match its name", name)
	}
	payload, err := r.c.open(kindIndex, "index/", obj, r.c.encrypted())
	if err != nil {
		return ix, fmt.Errorf("%s: %w", name, err)
	}
	packs, err := decodeIndex(payload)
	if err != nil {
		return ix, corruptf("%s: %v", name, err)
	}
	ix.packs = packs
	return ix, nil
}

// listNames lists the object names under prefix, sorted.
func (r *Repo) listNames(ctx context.Context, prefix string) (map[string]int64, []string, error) {
	sizes := map[string]int64{}
	var names []string
	err := r.be.List(ctx, prefix, func(name string, size int64) error {
		sizes[name] = size
		names = append(names, name)
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("repo: listing %s: %w", prefix, err)
	}
	sort.Strings(names)
	return sizes, names, nil
}

// readIndexes reads every index object, a few at a time. Objects that fail
// their checks are returned in bad (with ErrCorrupt errors); other errors
// abort.
func (r *Repo) readIndexes(ctx context.Context) (good []indexObject, bad map[string]error, err error) {
	return r.readIndexesThen(ctx, nil)
}

// readIndexesThen is readIndexes calling listed (when not nil) once the index objects are
// listed, before they are read.
func (r *Repo) readIndexesThen(ctx context.Context, listed func()) (good []indexObject, bad map[string]error, err error) {
	_, names, err := r.listNames(ctx, "index/")
	if err != nil {
		return nil, nil, err
	}
	if listed != nil {
		listed()
	}
	var valid []string
	for _, n := range names {
		if _, ok := parseLowerHexID(strings.TrimPrefix(n, "index/")); ok {
			valid = append(valid, n)
		}
	}
	res := make([]indexObject, len(valid))
	errs := make([]error, len(valid))
	parallel(len(valid), 8, func(i int) {
		res[i], errs[i] = r.readIndexObject(ctx, valid[i])
	})
	bad = map[string]error{}
	for i, e := range errs {
		switch {
		case e == nil:
			good = append(good, res[i])
		case errors.Is(e, storage.ErrNotExist):
			// Deleted since the listing (a concurrent Prune): nothing to load.
		case errors.Is(e, ErrCorrupt):
			bad[valid[i]] = e
		default:
			return nil, nil, fmt.Errorf("repo: reading %s: %w", valid[i], e)
		}
	}
	return good, bad, nil
}

// parallel runs fn(0..n-1) on at most workers goroutines.
func parallel(n, workers int, fn func(i int)) {
	if n == 0 {
		return
	}
	workers = min(workers, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

// loadIndex replaces the in-memory index with the index objects on the
// backend. Chunks pending in this Repo stay pending.
func (r *Repo) loadIndex(ctx context.Context) error { return r.loadIndexThen(ctx, nil) }

// loadIndexThen is loadIndex calling listed as readIndexesThen does.
func (r *Repo) loadIndexThen(ctx context.Context, listed func()) error {
	good, bad, err := r.readIndexesThen(ctx, listed)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	oldPacks := r.packs
	pending := r.pending
	written := r.written
	r.resetIndex()
	n := 0
	for _, ix := range good {
		for _, p := range ix.packs {
			n += len(p.entries)
		}
	}
	// Sized once: growing it to 100,000 chunks rehashed it for 20 ms. Chunks indexed later go
	// to added instead: the 10% more of a backup after a scattered update split nearly every
	// table of a map sized exactly, and room for them doubled its size (the map's tables come
	// in powers of two).
	r.idx = make(map[ID]blobLoc, n)
	for _, ix := range good {
		for _, p := range ix.packs {
			num := r.addPack(p.id, p.size, true)
			for _, e := range p.entries {
				if _, dup := r.idx[e.id]; !dup {
					r.idx[e.id] = locOf(num, e)
				}
			}
		}
	}
	for name, e := range bad {
		r.loadProblems = append(r.loadProblems, fmt.Sprintf("%s: %v", name, e))
	}
	sort.Strings(r.loadProblems)
	// Keep what is pending, renumbering the written packs.
	renum := func(old uint32) uint32 {
		p := oldPacks[old]
		return r.addPack(p.id, p.size, false)
	}
	for id, pb := range pending {
		if pb.b == nil {
			pb.pack = renum(pb.pack)
		}
		r.pending[id] = pb
	}
	for i := range written {
		written[i].num = renum(written[i].num)
	}
	r.written = written
	return nil
}

// addPack returns the number of pack id, adding it if needed. Called with
// r.mu held.
func (r *Repo) addPack(id ID, size int64, indexed bool) uint32 {
	if n, ok := r.packNum[id]; ok {
		if indexed {
			r.packs[n].indexed = true
		}
		return n
	}
	n := uint32(len(r.packs))
	r.packs = append(r.packs, packInfo{id: id, size: size, indexed: indexed})
	r.packNum[id] = n
	return n
}

// Has reports whether the chunk is stored, or accepted by Put on this Repo
// and waiting for the next Flush.
func (r *Repo) Has(id ID) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.knownLocked(id)
}

// indexedLocked says where chunk id is when an index lists it (r.mu held).
func (r *Repo) indexedLocked(id ID) (blobLoc, bool) {
	if loc, ok := r.idx[id]; ok {
		return loc, true
	}
	loc, ok := r.added[id]
	return loc, ok
}

func (r *Repo) knownLocked(id ID) bool {
	if _, ok := r.indexedLocked(id); ok {
		return true
	}
	_, ok := r.pending[id]
	return ok
}

// Put adds a chunk if it is not stored yet (dedup) and returns how many bytes
// it added to the store (compressed/encrypted size; 0 when deduplicated).
// Safe for concurrent use: hashing, compression and encryption run outside
// the lock. The chunk is stored as a frame of its own; many small chunks
// compress better and faster through a Batch. Chunks go into an open pack
// that is written when it reaches PackSize or on Flush; a chunk counts as
// stored only once a Flush that follows its Put returns nil.
func (r *Repo) Put(ctx context.Context, data []byte) (id ID, added int64, err error) {
	if len(data) > maxChunkSize {
		return id, 0, fmt.Errorf("repo: chunk of %d bytes is larger than the maximum %d", len(data), maxChunkSize)
	}
	id = Hash(data)
	if r.Has(id) {
		return id, 0, nil
	}
	added, err = r.putFrame(ctx, []packEntry{{id: id, plain: uint32(len(data))}}, data)
	return id, added, err
}

// putFrame stores the chunks es (id, plain and inner set), whose plaintexts
// are frame, as one frame, leaving out those that became known since the
// caller checked, and returns the bytes added.
func (r *Repo) putFrame(ctx context.Context, es []packEntry, frame []byte) (int64, error) {
	eb := r.c.encodeFrame(frame)
	defer eb.release()

	r.mu.Lock()
	keep := es[:0]
	for _, e := range es {
		if !r.knownLocked(e.id) { // another goroutine may have stored it meanwhile
			e.flags = eb.flags
			keep = append(keep, e)
		}
	}
	if len(keep) == 0 {
		r.mu.Unlock()
		return 0, nil
	}
	b := r.open
	if b == nil {
		b = &packBuilder{}
		r.open = b
	}
	n := int64(eb.size())
	stored, release := eb.take()
	for _, e := range b.addOwned(keep, stored, release) {
		r.pending[e.id] = pendingBlob{b: b, e: e}
	}
	var full *packBuilder
	if b.size >= r.opts.PackSize {
		full = b
		r.open = nil
		r.uploading++
	}
	r.mu.Unlock()

	if full != nil {
		if err := r.writePack(ctx, full); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// writePack stores a builder's pack (r.uploading was incremented for it)
// and moves its chunks to the written state. On failure its chunks are
// forgotten and the error is also kept for the next Flush.
func (r *Repo) writePack(ctx context.Context, b *packBuilder) error {
	id, tail := r.c.finishPack(b)
	size := int64(b.size + len(tail))
	err := r.be.Put(ctx, packName(id), b.reader(tail), size)
	// After the unlock below: by then no pending entry leads to b any more.
	defer b.releaseOwned()

	r.mu.Lock()
	defer r.mu.Unlock()
	r.uploading--
	r.cond.Broadcast()
	if err != nil {
		err = fmt.Errorf("repo: writing pack %s: %w", packName(id), err)
		for _, e := range b.entries {
			if p, ok := r.pending[e.id]; ok && p.b == b {
				delete(r.pending, e.id)
			}
		}
		r.failed = errors.Join(r.failed, err)
		return err
	}
	num := r.addPack(id, size, false)
	for _, e := range b.entries {
		r.pending[e.id] = pendingBlob{e: e, pack: num}
	}
	r.written = append(r.written, writtenPack{num: num, entries: b.entries})
	return nil
}

// Flush writes the open pack, waits for packs being written, then writes one
// index object listing them; a chunk counts as stored only once its index is
// written. It returns the errors of pack writes since the last Flush too
// (their chunks are not stored: the caller must not reference them).
func (r *Repo) Flush(ctx context.Context) error {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	return r.flushLocked(ctx)
}

func (r *Repo) flushLocked(ctx context.Context) error {
	r.mu.Lock()
	b := r.open
	r.open = nil
	if b != nil {
		r.uploading++
	}
	r.mu.Unlock()
	if b != nil {
		_ = r.writePack(ctx, b) // the error is in r.failed
	}

	r.mu.Lock()
	for r.uploading > 0 {
		r.cond.Wait()
	}
	toIndex := r.written
	r.written = nil
	failed := r.failed
	r.failed = nil
	var packs []indexPack
	for _, w := range toIndex {
		p := r.packs[w.num]
		packs = append(packs, indexPack{id: p.id, size: p.size, entries: w.entries})
	}
	r.mu.Unlock()

	if len(packs) == 0 {
		return failed
	}
	if _, err := r.writeIndex(ctx, packs); err != nil {
		r.mu.Lock()
		r.written = append(toIndex, r.written...)
		r.mu.Unlock()
		return errors.Join(failed, err)
	}
	r.mu.Lock()
	for _, w := range toIndex {
		r.packs[w.num].indexed = true
		for _, e := range w.entries {
			if _, dup := r.idx[e.id]; !dup {
				r.added[e.id] = locOf(w.num, e)
			}
			delete(r.pending, e.id)
		}
	}
	r.mu.Unlock()
	return failed
}

// writeIndex stores an index object listing packs and returns its name.
func (r *Repo) writeIndex(ctx context.Context, packs []indexPack) (string, error) {
	obj := r.c.seal(kindIndex, "index/", encodeIndex(packs), true, r.c.encrypted())
	name := indexName(obj)
	if err := putObject(ctx, r.be, name, obj); err != nil {
		return "", fmt.Errorf("repo: writing %s: %w", name, err)
	}
	return name, nil
}

// Get returns a chunk's data: it reads the chunk's bytes (a range read),
// decrypts, decompresses and checks the SHA-256 against id. Errors wrap
// ErrCorrupt on any mismatch (naming the chunk and the pack) and ErrNotFound
// for an unknown chunk.
func (r *Repo) Get(ctx context.Context, id ID) ([]byte, error) {
	r.mu.Lock()
	loc, p, err := r.locateLocked(id)
	if err != nil {
		r.mu.Unlock()
		return nil, err
	}
	if p.b != nil {
		stored := p.b.blob(p.e)
		r.mu.Unlock()
		return r.decodeBuilding(id, stored, p.e)
	}
	pack := r.packs[loc.pack].id
	r.mu.Unlock()
	return r.readBlob(ctx, id, pack, loc)
}

// locateLocked says where chunk id is (r.mu held): in a written pack, at loc; in the pack
// being built, when p.b is not nil (p.b.blob(p.e) are its stored bytes); or nowhere, an error
// wrapping ErrNotFound (or ErrCorrupt when some index objects could not be read).
func (r *Repo) locateLocked(id ID) (loc blobLoc, p pendingBlob, err error) {
	if loc, ok := r.indexedLocked(id); ok {
		return loc, pendingBlob{}, nil
	}
	if p, ok := r.pending[id]; ok {
		if p.b != nil {
			return blobLoc{}, p, nil
		}
		return locOf(p.pack, p.e), pendingBlob{}, nil
	}
	if len(r.loadProblems) > 0 {
		return blobLoc{}, pendingBlob{}, corruptf("chunk %s is in no readable index object, and some index objects are damaged: %s",
			id, strings.Join(r.loadProblems, "; "))
	}
	return blobLoc{}, pendingBlob{}, fmt.Errorf("%w: chunk %s", ErrNotFound, id)
}

// decodeBuilding decodes chunk id from its stored bytes in the pack being built.
func (r *Repo) decodeBuilding(id ID, stored []byte, e packEntry) ([]byte, error) {
	data, err := r.c.decodeBlob(stored, e)
	if err != nil {
		return nil, corruptf("chunk %s in the pack being written: %v", id, err)
	}
	return data, nil
}

// readBlob reads and decodes one chunk.
func (r *Repo) readBlob(ctx context.Context, id, pack ID, loc blobLoc) ([]byte, error) {
	name := packName(pack)
	rc, err := r.be.GetRange(ctx, name, int64(loc.off), int64(loc.length))
	if err != nil {
		if errors.Is(err, storage.ErrNotExist) {
			return nil, corruptf("chunk %s: pack %s is missing", id, name)
		}
		if errors.Is(err, storage.ErrInvalidRange) {
			return nil, corruptf("chunk %s: pack %s is shorter than the index says", id, name)
		}
		return nil, fmt.Errorf("repo: reading chunk %s from %s: %w", id, name, err)
	}
	stored, err := readAll(rc, int64(loc.length))
	if err != nil {
		return nil, fmt.Errorf("repo: reading chunk %s from %s: %w", id, name, err)
	}
	if len(stored) != int(loc.length) {
		return nil, corruptf("chunk %s in %s: read %d bytes, the index says %d (pack truncated?)", id, name, len(stored), loc.length)
	}
	data, err := r.c.decodeBlob(stored, loc.entry(id))
	if err != nil {
		return nil, corruptf("chunk %s in %s: %v", id, name, err)
	}
	return data, nil
}

// Stats returns the number of indexed chunks, of indexed packs and the total
// size of those packs (chunks pending a Flush are not counted).
func (r *Repo) Stats() (chunks int, packs int, storedBytes int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.packs {
		if p.indexed {
			packs++
			storedBytes += p.size
		}
	}
	return len(r.idx) + len(r.added), packs, storedBytes
}
