package backup

import (
	"bytes"
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
func (s *Service) collect(ctx context.Context, tmp string, fontes []string) ([]source, error) {
	var out []source
	switch s.st.Dialect {
	case store.SQLiteDialect:
		snap := filepath.Join(tmp, "painel.db")
		if err := chunk.SnapshotSQLite(ctx, s.opts.DatabasePath, snap); err != nil {
			return nil, fmt.Errorf("snapshot do banco: %w", err)
		}
		fi, err := os.Stat(snap)
		if err != nil {
			return nil, err
		}
		out = append(out, source{abs: snap, rel: "banco/painel.db", info: fi, sqlite: true, temp: true})
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
	for _, p := range []string{s.opts.StoreDir, s.opts.RestoreDir, s.opts.TempDir, tmp} {
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
			src := source{abs: p, rel: relPath, info: fi}
			if isSQLiteFile(p) {
				// another SQLite database: back up a consistent snapshot, split on pages
				snap := filepath.Join(tmp, fmt.Sprintf("sqlite-%d.db", len(out)))
				if err := chunk.SnapshotSQLite(ctx, p, snap); err == nil {
					if sfi, err := os.Stat(snap); err == nil {
						src = source{abs: snap, rel: relPath, info: fileInfoAt{sfi, fi.ModTime(), fi.Mode()}, sqlite: true, temp: true}
					}
				}
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
	return out, nil
}

// fileInfoAt is a snapshot's info that keeps the original file's mtime and mode.
type fileInfoAt struct {
	fs.FileInfo
	mt   time.Time
	mode fs.FileMode
}

func (f fileInfoAt) ModTime() time.Time { return f.mt }
func (f fileInfoAt) Mode() fs.FileMode  { return f.mode }

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

// putWorkers store chunks in parallel.
const putWorkers = 2

// unchanged reports whether a file can be taken from the reference state without reading it.
// Snapshots are always read (their mtime is the snapshot's), and then compared by hash.
func unchanged(ref FileEntry, ok bool, src source) bool {
	return ok && !src.temp && ref.Size == src.info.Size() && ref.MTime.Equal(src.info.ModTime().UTC().Truncate(time.Microsecond)) &&
		ref.Mode == uint32(src.info.Mode().Perm())
}

// store reads one file, puts its chunks in the repository and returns its entry.
func (s *Service) storeFile(ctx context.Context, src source, p *progress) (FileEntry, error) {
	f, err := os.Open(src.abs)
	if err != nil {
		return FileEntry{}, err
	}
	defer f.Close()
	e := FileEntry{Path: src.rel, Mode: uint32(src.info.Mode().Perm()), MTime: src.info.ModTime().UTC().Truncate(time.Microsecond),
		SQLite: src.sqlite, Chunks: []ChunkRef{}}
	sh, mh := sha256.New(), md5.New()
	r := io.TeeReader(f, io.MultiWriter(sh, mh))
	// The splitter runs here; hashing, compressing and storing the chunks run on putWorkers
	// goroutines (Put is safe for concurrent use); the references are put back in order.
	type work struct {
		idx  int
		data []byte
	}
	var (
		mu     sync.Mutex
		refs   = map[int]ChunkRef{}
		putErr error
		wg     sync.WaitGroup
	)
	jobs := make(chan work, 2*putWorkers)
	for range putWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				id, added, err := s.repo.Put(ctx, j.data)
				mu.Lock()
				if err != nil && putErr == nil {
					putErr = err
				}
				refs[j.idx] = ChunkRef{ID: id.String(), Len: int64(len(j.data))}
				mu.Unlock()
				p.stored.Add(added)
			}
		}()
	}
	n := 0
	put := func(c chunk.Chunk) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		mu.Lock()
		failed := putErr
		mu.Unlock()
		if failed != nil {
			return failed
		}
		jobs <- work{idx: n, data: bytes.Clone(c.Data)} // the splitter reuses its buffer
		n++
		e.Size += int64(len(c.Data))
		p.read.Add(int64(len(c.Data)))
		return nil
	}
	if src.sqlite {
		err = chunk.SQLitePages(r, 0, put)
	} else {
		err = chunk.CDC(r, put)
	}
	close(jobs)
	wg.Wait()
	if err == nil {
		err = putErr
	}
	if err != nil {
		return FileEntry{}, fmt.Errorf("%s: %w", src.rel, err)
	}
	e.Chunks = make([]ChunkRef, n)
	for i := range n {
		e.Chunks[i] = refs[i]
	}
	e.SHA256, e.MD5 = hex.EncodeToString(sh.Sum(nil)), hex.EncodeToString(mh.Sum(nil))
	return e, nil
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
	sources, err := s.collect(ctx, tmp, cfg.Fontes)
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
	for _, src := range sources {
		r, ok := ref[src.rel]
		if unchanged(r, ok, src) {
			now[src.rel] = r
			p.files.Add(1)
			continue
		}
		e, err := s.storeFile(ctx, src, p)
		if errors.Is(err, fs.ErrNotExist) && !src.temp {
			continue // deleted since the walk
		}
		if err != nil {
			return nil, err
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
	return m, nil
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

// restoreTo writes the files of backup id under dest (a new or empty folder): each file to a
// temporary name, every chunk verified by the repository, the whole file checked against its
// SHA-256, then renamed into place with its mode and mtime; SQLite files must pass
// PRAGMA integrity_check.
func (s *Service) restoreTo(ctx context.Context, id, dest string, p *progress) (int, error) {
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
	for _, f := range files {
		target, err := safeJoin(dest, f.Path)
		if err != nil {
			return 0, err
		}
		if err := s.restoreFile(ctx, f, target, p); err != nil {
			return 0, fmt.Errorf("%s: %w", f.Path, err)
		}
		p.files.Add(1)
	}
	return len(files), nil
}

func (s *Service) restoreFile(ctx context.Context, f FileEntry, target string, p *progress) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(target), ".tmp-restore-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	var h hash.Hash = sha256.New()
	w := io.MultiWriter(tmp, h)
	// Batches of chunks are read with GetMany (one range read for neighbouring chunks of a
	// pack, several reads at once), then written in file order.
	refs := f.Chunks
	for start := 0; start < len(refs); {
		end, size := start, int64(0)
		for end < len(refs) && end-start < restoreBatchChunks && size < restoreBatchBytes {
			size += refs[end].Len
			end++
		}
		ids := make([]repo.ID, end-start)
		for i, c := range refs[start:end] {
			id, err := repo.ParseID(c.ID)
			if err != nil {
				return err
			}
			ids[i] = id
		}
		got := make(map[repo.ID][]byte, len(ids))
		if err := s.repo.GetMany(ctx, ids, func(id repo.ID, data []byte) error {
			got[id] = data
			return nil
		}); err != nil {
			return err
		}
		for i, c := range refs[start:end] {
			data := got[ids[i]]
			if int64(len(data)) != c.Len {
				return fmt.Errorf("bloco %s: %d bytes, esperado %d", c.ID, len(data), c.Len)
			}
			if _, err := w.Write(data); err != nil {
				return err
			}
			p.read.Add(int64(len(data)))
		}
		start = end
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != f.SHA256 {
		return fmt.Errorf("%w: SHA-256 %s, esperado %s", repo.ErrCorrupt, got, f.SHA256)
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Chmod(fs.FileMode(f.Mode) & 0o777); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if f.SQLite {
		if err := sqliteIntegrity(ctx, tmp.Name()); err != nil {
			return err
		}
	}
	if err := os.Chtimes(tmp.Name(), f.MTime, f.MTime); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), target)
}

// A restore reads at most this many chunks, or bytes, at a time.
const (
	restoreBatchChunks = 8192
	restoreBatchBytes  = 64 << 20
)

// sqliteIntegrity runs PRAGMA integrity_check on a file.
func sqliteIntegrity(ctx context.Context, path string) error {
	// immutable: read the file as it is, without creating -wal or -shm files next to it
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&immutable=1")
	if err != nil {
		return err
	}
	defer db.Close()
	var res string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil {
		return fmt.Errorf("integrity_check: %w", err)
	}
	if res != "ok" {
		return fmt.Errorf("integrity_check: %s", res)
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
	seen := map[string]bool{}
	var ids []repo.ID
	for _, f := range st {
		for _, c := range f.Chunks {
			if seen[c.ID] {
				continue
			}
			seen[c.ID] = true
			id, err := repo.ParseID(c.ID)
			if err != nil {
				return repo.VerifyReport{}, err
			}
			ids = append(ids, id)
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
				if rid, err := repo.ParseID(c.ID); err == nil {
					keep[rid] = true
				}
			}
			for _, c := range f.Patch {
				if rid, err := repo.ParseID(c.ID); err == nil {
					keep[rid] = true
				}
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
