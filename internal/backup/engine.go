package backup

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // integrity checks of restored SQLite files

	"github.com/painel-universal/painel/internal/backup/chunk"
	"github.com/painel-universal/painel/internal/backup/repo"
	"github.com/painel-universal/painel/internal/store"
)

// progress is what a running job reports; the fields are atomics so the API can read them.
type progress struct {
	phase      atomic.Value // string
	files      atomic.Int64
	filesTotal atomic.Int64
	read       atomic.Int64
	stored     atomic.Int64
	expected   atomic.Int64 // bytes expected to be read (for the ETA)
}

func (p *progress) setPhase(s string) { p.phase.Store(s) }

// source is one file to back up: where it is now and its path in the backup.
type source struct {
	abs    string // the file to read
	rel    string // its path in the backup
	info   fs.FileInfo
	sqlite bool // split on pages (the file is a consistent snapshot)
	temp   bool // abs is a temporary snapshot to remove afterwards
}

// collect lists the files to back up: the service's database (a consistent snapshot), the data
// folder minus the backup store, restore folder, the live database files and temporary files,
// and the configured extra sources.
func (s *Service) collect(ctx context.Context, tmp string, fontes []string, ref state) ([]source, error) {
	var out []source
	switch s.st.Dialect {
	case store.SQLiteDialect:
		// Read live, as one read transaction sees it (chunk.OpenSQLite in storeFile).
		fi, err := os.Stat(s.opts.DatabasePath)
		if err != nil {
			return nil, fmt.Errorf("banco: %w", err)
		}
		out = append(out, source{abs: s.opts.DatabasePath, rel: "banco/painel.db", info: fi, sqlite: true})
	case store.PostgresDialect:
		dump := filepath.Join(tmp, "postgres.dump")
		f, err := os.Create(dump)
		if err != nil {
			return nil, err
		}
		err = chunk.DumpPostgres(ctx, s.st.DB, f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("dump do PostgreSQL: %w", err)
		}
		fi, err := os.Stat(dump)
		if err != nil {
			return nil, err
		}
		out = append(out, source{abs: dump, rel: "banco/postgres.dump", info: fi, temp: true})
	}
	skip := map[string]bool{}
	for _, p := range []string{s.opts.StoreDir, s.opts.RestoreDir, s.opts.TempDir, s.opts.CacheDir, tmp} {
		if p != "" {
			skip[filepath.Clean(p)] = true
		}
	}
	if s.opts.DatabasePath != "" {
		for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
			skip[filepath.Clean(s.opts.DatabasePath+suffix)] = true
		}
	}
	walk := func(root, prefix string) error {
		return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil // vanished while walking
				}
				return err
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if skip[filepath.Clean(p)] {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			name := d.Name()
			if !d.Type().IsRegular() || strings.HasPrefix(name, ".tmp-") || strings.HasSuffix(name, ".tmp") {
				return nil // folders are implied, links and devices are not backed up
			}
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			fi, err := d.Info()
			if err != nil {
				return nil
			}
			relPath := prefix + filepath.ToSlash(rel)
			if root == p { // a single file source
				relPath = strings.TrimSuffix(prefix, "/")
			}
			if cleanRel(relPath) != nil {
				s.log.Warn("backup: skipping a file whose name cannot be stored safely", "path", p)
				return nil
			}
			// Another SQLite database is read live and split on pages, like the service's own. A
			// file the reference state holds as another kind of file, with the same size, mtime
			// and mode, is taken from it unread (see unchanged): its header is not read either.
			src := source{abs: p, rel: relPath, info: fi}
			if r, ok := ref[relPath]; !ok || r.SQLite || !sameStat(r, fi) {
				src.sqlite = isSQLiteFile(p)
			}
			out = append(out, src)
			return nil
		})
	}
	if s.opts.DataDir != "" {
		if err := walk(s.opts.DataDir, "dados/"); err != nil {
			return nil, err
		}
	}
	for i, f := range fontes {
		if err := walk(f, fmt.Sprintf("fontes/%d-%s/", i+1, sanitizeName(filepath.Base(f)))); err != nil {
			return nil, fmt.Errorf("fonte %s: %w", f, err)
		}
	}
	return withoutCompanions(out), nil
}

// sameAsDatabase reports whether path is the service's own SQLite database, which the store
// keeps open: chunk.SQLiteLivePages must not read it through a file descriptor of its own.
func (s *Service) sameAsDatabase(path string) bool {
	if s.opts.DatabasePath == "" {
		return false
	}
	a, err := os.Stat(path)
	if err != nil {
		return true // unsure: the safe way
	}
	b, err := os.Stat(s.opts.DatabasePath)
	if err != nil {
		return true
	}
	return os.SameFile(a, b)
}

// withoutCompanions drops the -wal, -shm and -journal files of the SQLite databases in srcs:
// a database is read with what its WAL holds, and a stale WAL or journal restored next to it
// would be applied to it when it is opened.
func withoutCompanions(srcs []source) []source {
	dbs := map[string]bool{}
	for _, s := range srcs {
		if s.sqlite {
			dbs[s.abs] = true
		}
	}
	out := srcs[:0]
	for _, s := range srcs {
		companion := false
		for _, suffix := range []string{"-wal", "-shm", "-journal"} {
			if base, ok := strings.CutSuffix(s.abs, suffix); ok && dbs[base] {
				companion = true
			}
		}
		if !companion {
			out = append(out, s)
		}
	}
	return out
}

func sanitizeName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '.' || r == '-' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 || strings.Trim(b.String(), ".") == "" {
		return "fonte"
	}
	return b.String()
}

func isSQLiteFile(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	h := make([]byte, 100)
	if _, err := io.ReadFull(f, h); err != nil {
		return false
	}
	return chunk.IsSQLite(h)
}

// unchanged reports whether a file can be taken from the reference state without reading it.
// Temporary files (a PostgreSQL dump) and SQLite databases (whose commits may be only in their
// WAL, leaving the main file's size and mtime as they were) are always read, and then compared
// by hash.
func unchanged(ref FileEntry, ok bool, src source) bool {
	return ok && !src.temp && !src.sqlite && sameStat(ref, src.info)
}

// sameStat reports whether a file's size, mtime (to the microsecond a manifest keeps) and mode
// are those of ref.
func sameStat(ref FileEntry, info fs.FileInfo) bool {
	return ref.Size == info.Size() && ref.MTime.Equal(info.ModTime().UTC().Truncate(time.Microsecond)) &&
		ref.Mode == uint32(info.Mode().Perm())
}

// storeFile reads one file, puts its chunks in the repository and returns its entry. A SQLite
// database is read live (chunk.OpenSQLite: one read transaction) and split on pages; any other
// file is split by content. The chunks go through a repo.Batch, which hashes them here and
// compresses the new ones together in frames on other goroutines; the whole-file SHA-256 and
// MD5 are computed on a goroutine of their own.
//
// A SQLite file's pages are fingerprinted (pageCache); with the fingerprints the parent backup
// (parent, whose state of the file is ref) recorded, a page that did not change takes its chunk
// from ref unhashed. The fingerprints are returned for the cache (nil for other files).
func (s *Service) storeFile(ctx context.Context, src source, p *progress, ref FileEntry, parent string) (FileEntry, []byte, error) {
	var f *os.File
	if !src.sqlite {
		var err error
		if f, err = os.Open(src.abs); err != nil {
			return FileEntry{}, nil, err
		}
		defer f.Close()
	}
	// Room for the chunks up front: appending a database's 100,000 pages one at a time copied
	// the list over and over (0.09 s). Pages of 4 KiB (SQLite's default) are assumed; chunking
	// gives pieces of about 1 MiB.
	perChunk := int64(1 << 20)
	if src.sqlite {
		perChunk = 4096
	}
	e := FileEntry{FileSummary: FileSummary{Path: src.rel, Mode: uint32(src.info.Mode().Perm()),
		MTime: src.info.ModTime().UTC().Truncate(time.Microsecond), SQLite: src.sqlite},
		Chunks: make(ChunkList, 0, min(src.info.Size()/perChunk+1, 1<<20))}
	fh := newFileHasher(true)
	defer fh.stop()
	batch := s.repo.NewBatch(ctx, 0)
	var fps, prev []byte
	lent := false // the pages come in the hasher's own blocks (a direct read): not copied to it
	if src.sqlite && s.pages != nil {
		fps = make([]byte, 0, cap(e.Chunks)*fingerprintLen)
		if parent != "" && ref.SQLite {
			prev = s.pages.load(parent, src.rel, ref)
		}
	}
	put := func(c chunk.Chunk) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		var id repo.ID
		reused := false
		if fps != nil {
			i := len(e.Chunks)
			fps = s.pages.fingerprint(fps, c.Data)
			if k := i * fingerprintLen; k < len(prev) && ref.Chunks[i].Len == int64(len(c.Data)) &&
				string(fps[k:k+fingerprintLen]) == string(prev[k:k+fingerprintLen]) {
				id, reused = ref.Chunks[i].ID, true
				reusedPages.Add(1)
			}
		}
		if !reused {
			var err error
			if id, err = batch.Add(c.Data); err != nil {
				return err
			}
		}
		if src.sqlite && !lent {
			fh.Write(c.Data) // CDC chunks are hashed as they are read, below
		}
		e.Chunks = append(e.Chunks, ChunkRef{ID: id, Len: int64(len(c.Data))})
		e.Size += int64(len(c.Data))
		p.read.Add(int64(len(c.Data)))
		return nil
	}
	var err error
	if src.sqlite {
		err = chunk.SQLiteLivePagesTo(ctx, src.abs, !s.sameAsDatabase(src.abs), chunk.PageSink{Page: put,
			Get: func() []byte { lent = true; return fh.buffer() }, Done: fh.sendBuffer})
	} else {
		err = chunk.CDC(io.TeeReader(f, fh), put)
	}
	added, berr := batch.Close()
	p.stored.Add(added)
	if err == nil {
		err = berr
	}
	if err != nil {
		return FileEntry{}, nil, fmt.Errorf("%s: %w", src.rel, err)
	}
	e.SHA256, e.MD5 = fh.sums()
	return e, fps, nil
}

// fileHasher computes a file's SHA-256 and MD5. Up to one block (fileHashBlock bytes) is hashed
// inline; a bigger file is hashed on goroutines of its own, one per sum (MD5 alone takes as
// long as reading and splitting the file), from copies of what is written to it in blocks, so
// that hashing the whole file twice does not hold up reading and splitting it. Blocks come
// from a pool shared by all files.
type fileHasher struct {
	cur   *hashBlock
	hs    []hash.Hash // SHA-256, then MD5 if asked for
	work  []chan *hashBlock
	free  chan *hashBlock
	owned int // blocks taken from the pool
	wg    sync.WaitGroup
	ended bool
}

// hashBlock is a block of a file on its way to each of a fileHasher's goroutines.
type hashBlock struct {
	b       []byte
	pending atomic.Int32 // goroutines yet to hash it
}

const (
	fileHashBlock  = 1 << 20
	fileHashBlocks = 4 // per file: one being filled, the others queued or being hashed
)

var hashBlocks = sync.Pool{New: func() any { return &hashBlock{b: make([]byte, 0, fileHashBlock)} }}

// newFileHasher returns a hasher of SHA-256, and of MD5 too when withMD5.
func newFileHasher(withMD5 bool) *fileHasher {
	h := &fileHasher{hs: []hash.Hash{sha256.New()}}
	if withMD5 {
		h.hs = append(h.hs, md5.New())
	}
	return h
}

func (h *fileHasher) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if h.cur == nil {
			h.cur = h.block()
		}
		b := h.cur.b
		k := min(len(p), cap(b)-len(b))
		b = append(b, p[:k]...)
		h.cur.b = b
		p = p[k:]
		if len(b) == cap(b) {
			h.send()
		}
	}
	return n, nil
}

// buffer starts a block for the caller to fill (chunk.PageSink.Get): the next sendBuffer hands
// it to the goroutines, with no copy of its bytes. Not to be mixed with Write.
func (h *fileHasher) buffer() []byte {
	h.cur = h.block()
	return h.cur.b[:0]
}

// sendBuffer hands the block buffer returned, filled with b (chunk.PageSink.Done).
func (h *fileHasher) sendBuffer(b []byte) {
	h.cur.b = b
	h.send()
}

// block returns an empty block: a free one, a new one from the pool, or the next one the
// goroutines are done with.
func (h *fileHasher) block() *hashBlock {
	if h.free != nil {
		select {
		case b := <-h.free:
			return b
		default:
		}
	}
	if h.owned < fileHashBlocks {
		h.owned++
		b := hashBlocks.Get().(*hashBlock)
		b.b = b.b[:0]
		return b
	}
	return <-h.free
}

// send hands the full current block to the goroutines, starting them on the first one.
func (h *fileHasher) send() {
	if h.work == nil {
		h.free = make(chan *hashBlock, fileHashBlocks)
		for _, hh := range h.hs {
			work := make(chan *hashBlock, fileHashBlocks)
			h.work = append(h.work, work)
			h.wg.Go(func() {
				for b := range work {
					hh.Write(b.b)
					if b.pending.Add(-1) == 0 {
						b.b = b.b[:0]
						h.free <- b
					}
				}
			})
		}
	}
	h.cur.pending.Store(int32(len(h.work)))
	for _, w := range h.work {
		w <- h.cur
	}
	h.cur = nil
}

// sums returns the hex SHA-256 and MD5 of everything written.
func (h *fileHasher) sums() (string, string) {
	h.stop()
	if len(h.hs) == 1 {
		return hex.EncodeToString(h.hs[0].Sum(nil)), ""
	}
	return hex.EncodeToString(h.hs[0].Sum(nil)), hex.EncodeToString(h.hs[1].Sum(nil))
}

// stop hashes what is left, waits for the goroutines and returns the blocks to the pool; safe to
// call twice.
func (h *fileHasher) stop() {
	if h.ended {
		return
	}
	h.ended = true
	if h.work != nil {
		for _, w := range h.work {
			close(w)
		}
		h.wg.Wait()
		close(h.free)
		for b := range h.free {
			hashBlocks.Put(b)
		}
	}
	if h.cur != nil {
		for _, hh := range h.hs {
			hh.Write(h.cur.b)
		}
		hashBlocks.Put(h.cur)
		h.cur = nil
	}
}

// resolve returns the files the backup id restores, applying its chain from the full.
func (s *Service) resolve(id string) (state, []*Manifest, error) {
	var chain []*Manifest
	for cur := id; cur != ""; {
		m, ok := s.catalog[cur]
		if !ok {
			return nil, nil, fmt.Errorf("%w: %s (na cadeia de %s)", ErrNotFound, cur, id)
		}
		chain = append(chain, m)
		if len(chain) > 100000 {
			return nil, nil, fmt.Errorf("cadeia de %s não termina", id)
		}
		cur = m.Pai
	}
	st := state{}
	for i := len(chain) - 1; i >= 0; i-- {
		for _, p := range chain[i].Removidos {
			delete(st, p)
		}
		for _, f := range chain[i].Arquivos {
			prev, ok := st[f.Path]
			full, err := f.apply(prev, ok)
			if err != nil {
				return nil, nil, fmt.Errorf("manifesto %s: %w", chain[i].ID, err)
			}
			st[f.Path] = full
		}
	}
	return st, chain, nil
}

// runBackup makes one backup of the given type (a differential or incremental without a full
// before it is made as a full, as pgBackRest does).
func (s *Service) runBackup(ctx context.Context, tipo string, cfg Config, p *progress) (*Manifest, error) {
	start := s.now()
	m := &Manifest{Versao: manifestVersion, ID: newID(start), Tipo: tipo, Banco: string(s.st.Dialect), Fontes: cfg.Fontes, Inicio: start.UTC()}
	if m.Fontes == nil {
		m.Fontes = []string{}
	}
	s.mu.Lock()
	parent, full := s.parentFor(tipo)
	s.mu.Unlock()
	if tipo != Full && full == "" {
		m.Tipo, tipo = Full, Full
		s.log.Info("backup: no full backup yet; making a full one", "pedido", tipo)
	}
	ref := state{}
	if tipo != Full {
		m.Pai, m.Completo = parent, full
		s.mu.Lock()
		st, _, err := s.resolve(parent)
		s.mu.Unlock()
		if err != nil {
			return nil, err
		}
		ref = st
	}
	p.setPhase("coletando")
	tmp, err := os.MkdirTemp(s.opts.TempDir, "backup-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	sources, err := s.collect(ctx, tmp, cfg.Fontes, ref)
	if err != nil {
		return nil, err
	}
	p.filesTotal.Store(int64(len(sources)))
	var expected int64
	for _, src := range sources {
		if r, ok := ref[src.rel]; !unchanged(r, ok, src) {
			expected += src.info.Size()
		}
	}
	p.expected.Store(expected)

	p.setPhase("copiando")
	now := state{}
	fingerprints := map[string][]byte{} // by path: the pages' fingerprints, for pageCache
	for _, src := range sources {
		r, ok := ref[src.rel]
		if unchanged(r, ok, src) {
			now[src.rel] = r
			p.files.Add(1)
			continue
		}
		e, fps, err := s.storeFile(ctx, src, p, r, m.Pai)
		if errors.Is(err, fs.ErrNotExist) && !src.temp {
			continue // deleted since the walk
		}
		if err != nil {
			return nil, err
		}
		if fps != nil {
			fingerprints[src.rel] = fps
		}
		sameContent := ok && r.SHA256 == e.SHA256 && r.Size == e.Size
		if sameContent && (src.temp || (r.Mode == e.Mode && r.MTime.Equal(e.MTime))) {
			now[src.rel] = r // a snapshot whose content did not change keeps the reference entry
		} else {
			now[src.rel] = e
			if ok && tipo != Full {
				e = delta(r, e) // only the chunks that changed since the reference
			}
			m.Arquivos = append(m.Arquivos, e)
		}
		p.files.Add(1)
	}
	if tipo == Full {
		m.Arquivos = now.sorted()
	} else {
		sort.Slice(m.Arquivos, func(i, j int) bool { return m.Arquivos[i].Path < m.Arquivos[j].Path })
		for path := range ref {
			if _, ok := now[path]; !ok {
				m.Removidos = append(m.Removidos, path)
			}
		}
		sort.Strings(m.Removidos)
	}
	if m.Arquivos == nil {
		m.Arquivos = []FileEntry{}
	}
	// The page fingerprints are written while the store is flushed (an entry of a backup that
	// then fails is never looked up, and is removed by the next keepPages).
	pagesSaved := make(chan struct{})
	go func() {
		defer close(pagesSaved)
		s.savePages(m.ID, now, fingerprints)
	}()
	defer func() { <-pagesSaved }()
	p.setPhase("gravando")
	if err := s.repo.Flush(ctx); err != nil {
		return nil, err
	}
	m.TotalArquivos, m.BytesLogicos = len(now), now.size()
	m.BytesLidos, m.BytesArmazenados = p.read.Load(), p.stored.Load()
	m.Fim = s.now().UTC()
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("manifesto gerado inválido: %w", err)
	}
	b, err := m.encode()
	if err != nil {
		return nil, err
	}
	if err := s.repo.SaveManifest(ctx, m.ID, b); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.catalog[m.ID] = m
	s.mu.Unlock()
	<-pagesSaved
	s.keepPages(m)
	return m, nil
}

// reusedPages counts the pages storeFile took from the parent by fingerprint (for tests).
var reusedPages atomic.Int64

// savePages records the page fingerprints of backup id's SQLite files in the page cache.
// Failing only costs the next backup time: it is logged.
func (s *Service) savePages(id string, now state, fps map[string][]byte) {
	if s.pages == nil {
		return
	}
	for path, f := range fps {
		e, ok := now[path]
		if !ok {
			continue
		}
		if err := s.pages.save(id, e, f); err != nil {
			s.log.Warn("backup: saving page fingerprints", "path", path, "error", err)
		}
	}
}

// keepPages drops from the page cache the fingerprints of every backup but m and the latest
// full (the parent of the next differential).
func (s *Service) keepPages(m *Manifest) {
	if s.pages == nil {
		return
	}
	s.mu.Lock()
	_, full := s.parentFor(Differential)
	s.mu.Unlock()
	if err := s.pages.keep(map[string]bool{m.ID: true, full: true}); err != nil {
		s.log.Warn("backup: cleaning the page fingerprint cache", "error", err)
	}
}

// parentFor returns the parent and the chain's full for a new backup of tipo (caller holds mu).
func (s *Service) parentFor(tipo string) (parent, full string) {
	ids := s.sortedIDs()
	for i := len(ids) - 1; i >= 0; i-- {
		m := s.catalog[ids[i]]
		if full == "" && m.Tipo == Full {
			full = m.ID
		}
		if parent == "" && tipo == Incremental {
			parent = m.ID
		}
	}
	if tipo == Differential {
		parent = full
	}
	if parent != "" && full == "" {
		full = s.catalog[parent].Completo
	}
	if parent != "" && s.catalog[parent].Tipo != Full {
		full = s.catalog[parent].Completo
	}
	return parent, full
}

// sortedIDs lists the backups oldest first (by start time, then id).
func (s *Service) sortedIDs() []string {
	ids := make([]string, 0, len(s.catalog))
	for id := range s.catalog {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := s.catalog[ids[i]], s.catalog[ids[j]]
		if !a.Inicio.Equal(b.Inicio) {
			return a.Inicio.Before(b.Inicio)
		}
		return ids[i] < ids[j]
	})
	return ids
}

// Integrity checks of a restored SQLite file (the restore's "integridade").
const (
	// CheckQuick runs PRAGMA quick_check: every page of every b-tree is read and checked for
	// structure, record format and NOT NULL/CHECK constraints, but indexes are not compared
	// with their tables. About a quarter of the full check's time.
	CheckQuick = "rapida"
	// CheckFull runs PRAGMA integrity_check, which also checks that every index matches its
	// table. A live restore always runs it.
	CheckFull = "completa"
)

// restoreTo writes the files of backup id under dest (a new or empty folder): each file to a
// temporary name, every chunk verified by the repository, the whole file checked against its
// SHA-256, then renamed into place with its mode and mtime; SQLite files must pass the
// integrity check named by check (CheckQuick or CheckFull).
func (s *Service) restoreTo(ctx context.Context, id, dest, check string, p *progress) (int, error) {
	s.mu.Lock()
	st, _, err := s.resolve(id)
	s.mu.Unlock()
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(dest, 0o700); err != nil {
		return 0, err
	}
	files := st.sorted()
	p.filesTotal.Store(int64(len(files)))
	p.expected.Store(st.size())
	p.setPhase("restaurando")
	// Big files (a database) are restored one at a time, first, with the machine to
	// themselves; the small files follow restoreWorkers at a time (they spend most of their
	// time creating and renaming) as soon as the last big file is written, while its
	// integrity check runs.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
		big      []FileEntry
		small    []FileEntry
	)
	for _, f := range files {
		if f.Size >= restoreBigFile {
			big = append(big, f)
		} else {
			small = append(small, f)
		}
	}
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
			cancel()
		}
		mu.Unlock()
	}
	failed := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return firstErr != nil
	}
	restore := func(f FileEntry, written func(), pre [][]byte) {
		target, err := safeJoin(dest, f.Path)
		if err == nil {
			err = s.restoreFile(ctx, f, target, check, false, written, pre, p)
		}
		if err != nil {
			fail(fmt.Errorf("%s: %w", f.Path, err))
			return
		}
		p.files.Add(1)
	}
	gate := make(chan struct{})
	var openGate sync.Once
	release := func() { openGate.Do(func() { close(gate) }) }
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer release()
		for i, f := range big {
			if failed() {
				return
			}
			var written func()
			if i == len(big)-1 {
				written = release
			}
			restore(f, written, nil)
		}
	}()
	// Small files go in groups whose chunks are read at once: neighbours in a pack come in one
	// range read instead of one per file.
	var groups [][]FileEntry
	for start := 0; start < len(small); {
		end, size := start, int64(0)
		for end < len(small) && end-start < restoreGroupFiles && size < restoreGroupBytes {
			size += small[end].Size
			end++
		}
		groups = append(groups, small[start:end])
		start = end
	}
	next := 0
	for range restoreWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			for {
				mu.Lock()
				i := next
				next++
				stop := firstErr != nil
				mu.Unlock()
				if stop || i >= len(groups) {
					return
				}
				// The group's chunks, file after file: file k's are chunks[at[k]:at[k+1]].
				var ids []repo.ID
				at := []int{0}
				for _, f := range groups[i] {
					for _, c := range f.Chunks {
						ids = append(ids, c.ID)
					}
					at = append(at, len(ids))
				}
				chunks := make([][]byte, len(ids))
				loan := &repo.Loan{}
				if err := s.repo.GetManyAt(ctx, ids, loan, func(k int, data []byte) error {
					chunks[k] = data
					return nil
				}); err != nil {
					// Restored one by one instead, each file reads its own chunks: the error then
					// names the file whose chunk is damaged or missing.
					loan.Release()
					chunks = nil
				}
				for k, f := range groups[i] {
					if failed() {
						break
					}
					if err := ctx.Err(); err != nil {
						fail(err) // the restore is cancelled: it must not end as a success
						break
					}
					var pre [][]byte
					if chunks != nil {
						pre = chunks[at[k]:at[k+1]:at[k+1]]
					}
					restore(f, nil, pre)
				}
				loan.Release()
			}
		}()
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err() // cancelled from outside: some files were not restored
	}
	if firstErr != nil {
		return 0, firstErr
	}
	// The files were written without an fsync each (see restoreFile); the restore ends once
	// all of them are durable.
	p.setPhase("sincronizando")
	if err := syncTree(dest); err != nil {
		return 0, fmt.Errorf("sincronizar %s: %w", dest, err)
	}
	return len(files), nil
}

// restoreWorkers is how many groups of small files a restore writes at once, each group of up
// to restoreGroupFiles files or restoreGroupBytes bytes; files of restoreBigFile bytes or more
// are restored one at a time before them.
const (
	restoreWorkers    = 2
	restoreGroupFiles = 64
	restoreGroupBytes = 4 << 20
)

var restoreBigFile int64 = 32 << 20 // a variable so that tests can send small files that way

// restoreFile writes f to a temporary file next to target, checks it (every chunk, the
// file's SHA-256, a SQLite file's integrity), and renames it to target with f's mode and
// mtime. With durable it is fsynced before the rename; a folder restore instead syncs the
// whole folder once at the end (syncTree).
// written, when not nil, is called once all the bytes are written, before the checks.
//
// pre, when not nil, holds the data of f's chunks in order, already read (restoreTo reads the
// chunks of many small files at once); else restoreFile reads them.
func (s *Service) restoreFile(ctx context.Context, f FileEntry, target, check string, durable bool, written func(),
	pre [][]byte, p *progress) (err error) {
	if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(target), ".tmp-restore-")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	// The chunks come in order from ReadOrderedUnchecked (each frame read and decoded once, on
	// all cores, a few frames ahead), in runs written with writev straight from the frames
	// they were decoded into: no copy of the data on the way. The whole file's SHA-256 (which
	// covers every chunk) is taken from the file itself, read back as it is written (see
	// hashWritten), and checked after the writing, while a SQLite file's integrity check
	// runs. Chunks read beforehand (pre) were checked one by one, and the file's SHA-256 is
	// checked here.
	var (
		total int64
		wh    *writtenHash
		want  [sha256.Size]byte
		ids   []repo.ID
	)
	write := func(first int, data [][]byte) error {
		n := int64(0)
		for k, d := range data {
			if c := f.Chunks[first+k]; int64(len(d)) != c.Len {
				return fmt.Errorf("bloco %s: %d bytes, esperado %d", c.ID, len(d), c.Len)
			}
			n += int64(len(d))
		}
		if err := writeBuffers(tmp, total, data); err != nil {
			return err
		}
		total += n
		p.read.Add(n)
		if wh != nil {
			wh.advance(total, false)
		}
		return nil
	}
	if pre != nil {
		if len(pre) != len(f.Chunks) {
			return fmt.Errorf("%d blocos lidos, o arquivo tem %d", len(pre), len(f.Chunks))
		}
		if err := write(0, pre); err != nil {
			return err
		}
		h := sha256.New()
		for _, d := range pre {
			h.Write(d)
		}
		if sum := hex.EncodeToString(h.Sum(nil)); sum != f.SHA256 {
			return fmt.Errorf("%w: SHA-256 %s, esperado %s", repo.ErrCorrupt, sum, f.SHA256)
		}
	} else {
		b, err := hex.DecodeString(f.SHA256)
		if err != nil || len(b) != sha256.Size {
			return fmt.Errorf("%w: SHA-256 inválido no manifesto: %q", repo.ErrCorrupt, f.SHA256)
		}
		want = [sha256.Size]byte(b)
		ids = make([]repo.ID, len(f.Chunks))
		for i, c := range f.Chunks {
			ids[i] = c.ID
		}
		hctx, stop := context.WithCancel(ctx)
		wh = hashWritten(hctx, tmp)
		defer func() {
			stop()
			<-wh.done // the file is not closed under the hash's reads
		}()
		if err := s.repo.ReadOrderedUnchecked(ctx, ids, write); err != nil {
			return err
		}
		wh.advance(total, true)
	}
	if total != f.Size {
		return fmt.Errorf("%w: os blocos somam %d bytes, o arquivo tem %d", repo.ErrCorrupt, total, f.Size)
	}
	if written != nil {
		written()
	}
	// A durable file, or a big one, goes to disk while it is checked (for a big one the
	// restore's final sync then has little left to write); small ones are left to that sync.
	var synced chan error
	if durable || f.Size >= restoreBigFile {
		synced = make(chan error, 1)
		go func() { synced <- tmp.Sync() }()
		defer func() {
			if synced != nil {
				<-synced // an early return: let the sync end before the file is closed
			}
		}()
	}
	if err := tmp.Chmod(fs.FileMode(f.Mode) & 0o777); err != nil {
		return err
	}
	var checkErr error
	if f.SQLite {
		// Opened by name, read-only: it sees the bytes written, synced or not. SQLite reads a
		// damaged file safely (that is what the check is for); a damaged chunk is still
		// reported as such, by the hash, before the check's verdict.
		checkErr = sqliteIntegrity(ctx, tmp.Name(), check)
	}
	if wh != nil {
		got, err := wh.result()
		if err != nil {
			return err
		}
		if got != want {
			return s.repo.SumMismatch(ctx, ids, got, want)
		}
	}
	if checkErr != nil {
		return checkErr
	}
	if synced != nil {
		serr := <-synced
		synced = nil
		if serr != nil && durable {
			return serr
		}
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chtimes(tmp.Name(), f.MTime, f.MTime); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), target)
}

// sqliteIntegrity runs PRAGMA quick_check (CheckQuick) or integrity_check (CheckFull) on a file.
func sqliteIntegrity(ctx context.Context, path, check string) error {
	pragma := "quick_check"
	if check == CheckFull {
		pragma = "integrity_check"
	}
	// immutable: read the file as it is, without creating -wal or -shm files next to it;
	// memory-mapped, the check reads pages without a system call each (2.2× faster on a
	// 421 MB database).
	db, err := sql.Open("sqlite", fmt.Sprintf("%s?mode=ro&immutable=1&_pragma=mmap_size(%d)", chunk.FileURI(path), int64(1)<<30))
	if err != nil {
		return err
	}
	defer db.Close()
	var res string
	if err := db.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&res); err != nil {
		return fmt.Errorf("%s: %w", pragma, err)
	}
	if res != "ok" {
		return fmt.Errorf("%w: %s: %s", repo.ErrCorrupt, pragma, res)
	}
	return nil
}

// verifyBackup reads and hashes every chunk the backup's chain needs.
func (s *Service) verifyBackup(ctx context.Context, id string) (repo.VerifyReport, error) {
	s.mu.Lock()
	st, chain, err := s.resolve(id)
	s.mu.Unlock()
	if err != nil {
		return repo.VerifyReport{}, err
	}
	// Every manifest of the chain must still read back intact.
	for _, m := range chain {
		b, err := s.repo.LoadManifest(ctx, m.ID)
		if err != nil {
			return repo.VerifyReport{Problems: []string{fmt.Sprintf("manifesto %s: %v", m.ID, err)}}, nil
		}
		if _, err := decodeManifest(b); err != nil {
			return repo.VerifyReport{Problems: []string{err.Error()}}, nil
		}
	}
	seen := map[repo.ID]bool{}
	var ids []repo.ID
	for _, f := range st {
		for _, c := range f.Chunks {
			if !seen[c.ID] {
				seen[c.ID] = true
				ids = append(ids, c.ID)
			}
		}
	}
	return s.repo.VerifyChunks(ctx, ids)
}

// referenced returns the chunks the given backups reference.
func (s *Service) referenced(ids map[string]bool) map[repo.ID]bool {
	keep := map[repo.ID]bool{}
	for id := range ids {
		m := s.catalog[id]
		if m == nil {
			continue
		}
		for _, f := range m.Arquivos {
			for _, c := range f.Chunks {
				keep[c.ID] = true
			}
			for _, c := range f.Patch {
				keep[c.ID] = true
			}
		}
	}
	return keep
}

// dependents returns the backups whose chain includes id (caller holds mu).
func (s *Service) dependents(id string) []string {
	var out []string
	for _, other := range s.sortedIDs() {
		if other == id {
			continue
		}
		for cur := s.catalog[other].Pai; cur != ""; {
			if cur == id {
				out = append(out, other)
				break
			}
			m := s.catalog[cur]
			if m == nil {
				break
			}
			cur = m.Pai
		}
	}
	return out
}
