package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/painel-universal/painel/internal/backup/repo"
	"github.com/painel-universal/painel/internal/backup/storage"
	"github.com/painel-universal/painel/internal/httpapi"
	"github.com/painel-universal/painel/internal/store"
)

// Errors the API maps to statuses.
var (
	ErrNotFound  = errors.New("backup não encontrado")
	ErrBusy      = errors.New("já há um backup em andamento")
	ErrDependent = errors.New("outros backups dependem deste")
)

// FieldError is a validation error naming the field at fault.
type FieldError = httpapi.FieldError

// Options configures the service.
type Options struct {
	DataDir      string // backed up, minus the store, restore and temporary folders
	DatabasePath string // the live SQLite file ("" on PostgreSQL)
	StoreDir     string // the local backup store, excluded from the data folder backup ("" for S3)
	RestoreDir   string // restore destinations are resolved under it
	TempDir      string // snapshots and dumps (default: DataDir/.tmp-backup)
	CacheDir     string // page fingerprints of the last backups (pageCache; default: TempDir/cache)
	Backend      storage.Backend
	Passphrase   string
	// Compression is the zstd level of new data, 1 (fastest) to 4 (best); 0: the store's
	// default (repo.Options.Level).
	Compression int
	Location    *time.Location // for retention periods (default time.Local)
	Now         func() time.Time
	Log         *slog.Logger
	// Maintenance runs fn with the service in maintenance (other requests answered 503, the
	// requests in flight finished first); it is how a live restore swaps the database. Nil:
	// live restores are refused.
	Maintenance func(ctx context.Context, reason string, fn func(context.Context) error) error
	// AfterLiveRestore reloads what modules keep in memory from the database (alert rules,
	// cache areas...), still in maintenance.
	AfterLiveRestore func(ctx context.Context) error
}

// Service makes, lists, verifies, restores and expires backups.
type Service struct {
	st   *store.Store
	opts Options
	log  *slog.Logger
	now  func() time.Time
	repo *repo.Repo
	// pages is the page-fingerprint cache (nil when its folder cannot be used); only the job
	// running a backup uses it.
	pages *pageCache

	mu       sync.Mutex
	catalog  map[string]*Manifest
	verified map[string]Verification
	// unreadable names the manifests the last reload could not read or decode (damaged, or
	// written by a newer version): while there are any, nothing is pruned, since their chunks
	// are unknown.
	unreadable []string

	jobMu   sync.Mutex
	running *Job
	jobs    map[string]*Job
	order   []string // job ids, oldest first (bounded)

	// Jobs outlive the request that starts them, not the service: Close cancels them.
	jobsCtx  context.Context
	stopJobs context.CancelFunc
	jobsWG   sync.WaitGroup
}

// Close waits for a running job to end, until ctx ends; then it cancels the job (a backup
// interrupted leaves the store consistent, and the next one completes) and waits for it to
// stop. It returns an error when a job had to be cancelled.
func (s *Service) Close(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.jobsWG.Wait(); close(done) }()
	select {
	case <-done:
		s.stopJobs()
		return nil
	case <-ctx.Done():
	}
	j := s.Running()
	s.stopJobs()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
	}
	if j != nil {
		return fmt.Errorf("backup: job %s (%s) interrupted by the shutdown", j.ID, j.Tipo)
	}
	return nil
}

// Verification is the last verification of a backup.
type Verification struct {
	Em        time.Time `json:"verificado_em"`
	OK        bool      `json:"ok"`
	Problemas []string  `json:"problemas"`
	Blocos    int       `json:"blocos"`
	Bytes     int64     `json:"bytes"`
}

// Open opens (or initialises) the repository and loads the catalogue of backups.
func Open(ctx context.Context, st *store.Store, o Options) (*Service, error) {
	if o.Backend == nil {
		return nil, errors.New("backup: no storage backend")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.TempDir == "" {
		o.TempDir = filepath.Join(o.DataDir, ".tmp-backup")
	}
	if err := os.MkdirAll(o.TempDir, 0o700); err != nil {
		return nil, err
	}
	if o.CacheDir == "" {
		o.CacheDir = filepath.Join(o.TempDir, "cache")
	}
	if o.RestoreDir != "" {
		if err := os.MkdirAll(o.RestoreDir, 0o700); err != nil {
			return nil, err
		}
	}
	s := &Service{st: st, opts: o, log: o.Log, now: o.Now, jobs: map[string]*Job{}}
	if pc, err := openPageCache(o.CacheDir); err != nil {
		o.Log.Warn("backup: page fingerprint cache unavailable; every page will be hashed", "dir", o.CacheDir, "error", err)
	} else {
		s.pages = pc
	}
	// The catalogue is read while the store's index loads (they take about as long).
	loaded := false
	r, err := repo.OpenOrInit(ctx, o.Backend, repo.Options{Passphrase: o.Passphrase, Level: o.Compression,
		WhileIndexLoads: func(ctx context.Context, r *repo.Repo) error {
			loaded = true
			return s.reloadFrom(ctx, r)
		}})
	if err != nil {
		return nil, fmt.Errorf("backup store at %s: %w", o.Backend.Location(), err)
	}
	s.repo = r
	s.jobsCtx, s.stopJobs = context.WithCancel(context.Background())
	if !loaded { // a store just created
		if err := s.reload(ctx); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// reload reads every manifest and verification record from the repository.
func (s *Service) reload(ctx context.Context) error { return s.reloadFrom(ctx, s.repo) }

// reloadFrom is reload from the repository r.
func (s *Service) reloadFrom(ctx context.Context, r *repo.Repo) error {
	names, err := r.ListManifests(ctx)
	if err != nil {
		return err
	}
	catalog, verified := map[string]*Manifest{}, map[string]Verification{}
	var unreadable []string
	for _, n := range names {
		b, err := r.LoadManifest(ctx, n)
		if err != nil {
			s.log.Error("backup: unreadable manifest", "nome", n, "error", err)
			if !strings.HasPrefix(n, "verificado-") {
				unreadable = append(unreadable, n)
			}
			continue
		}
		if id, ok := strings.CutPrefix(n, "verificado-"); ok {
			var v Verification
			if json.Unmarshal(b, &v) == nil {
				verified[id] = v
			}
			continue
		}
		m, err := decodeManifest(b)
		if err != nil {
			s.log.Error("backup: invalid manifest", "nome", n, "error", err)
			unreadable = append(unreadable, n)
			continue
		}
		catalog[m.ID] = m
	}
	s.mu.Lock()
	s.catalog, s.verified, s.unreadable = catalog, verified, unreadable
	s.mu.Unlock()
	return nil
}

// Summary is a backup in the list.
type Summary struct {
	ID               string     `json:"id"`
	Tipo             string     `json:"tipo"`
	Pai              string     `json:"pai"`
	Status           string     `json:"status" enum:"concluido"`
	Arquivos         int        `json:"arquivos"`
	BytesLogicos     int64      `json:"bytes_logicos"`
	BytesArmazenados int64      `json:"bytes_armazenados"`
	DuracaoSegundos  float64    `json:"duracao_segundos"`
	Inicio           time.Time  `json:"inicio"`
	Fim              time.Time  `json:"fim"`
	VerificadoEm     *time.Time `json:"verificado_em"`
	VerificadoOK     *bool      `json:"verificado_ok"`
}

func (s *Service) summary(m *Manifest) Summary {
	sm := Summary{ID: m.ID, Tipo: m.Tipo, Pai: m.Pai, Status: "concluido", Arquivos: m.TotalArquivos,
		BytesLogicos: m.BytesLogicos, BytesArmazenados: m.BytesArmazenados,
		DuracaoSegundos: m.Fim.Sub(m.Inicio).Seconds(), Inicio: m.Inicio, Fim: m.Fim}
	if v, ok := s.verified[m.ID]; ok {
		t, okv := v.Em, v.OK
		sm.VerificadoEm, sm.VerificadoOK = &t, &okv
	}
	return sm
}

// List returns a page of backups, newest first, and the total.
func (s *Service) List(page, perPage int) ([]Summary, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := s.sortedIDs()
	out := []Summary{}
	for i := len(ids) - 1 - (page-1)*perPage; i >= 0 && len(out) < perPage; i-- {
		out = append(out, s.summary(s.catalog[ids[i]]))
	}
	return out, len(ids)
}

// Detail is GET /backup/{id}: the summary, the chain and the files.
type Detail struct {
	Summary
	Cadeia      []string      `json:"cadeia" doc:"The backups a restore applies, from the full to this one"`
	Dependentes []string      `json:"dependentes" doc:"Backups that need this one"`
	Fontes      []string      `json:"fontes"`
	Banco       string        `json:"banco"`
	BytesLidos  int64         `json:"bytes_lidos"`
	Alterados   []FileSummary `json:"arquivos_alterados" doc:"Files this backup stored (all of them for a full), without their chunk lists"`
	Removidos   []string      `json:"removidos"`
	Verificacao *Verification `json:"verificacao"`
}

// Get returns a backup's detail.
func (s *Service) Get(id string) (Detail, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.catalog[id]
	if !ok {
		return Detail{}, ErrNotFound
	}
	_, chain, err := s.resolve(id)
	if err != nil {
		return Detail{}, err
	}
	d := Detail{Summary: s.summary(m), Fontes: m.Fontes, Banco: m.Banco, BytesLidos: m.BytesLidos,
		Removidos: m.Removidos, Dependentes: s.dependents(id)}
	if d.Removidos == nil {
		d.Removidos = []string{}
	}
	if d.Dependentes == nil {
		d.Dependentes = []string{}
	}
	for i := len(chain) - 1; i >= 0; i-- {
		d.Cadeia = append(d.Cadeia, chain[i].ID)
	}
	for _, f := range m.Arquivos {
		d.Alterados = append(d.Alterados, f.FileSummary)
	}
	if d.Alterados == nil {
		d.Alterados = []FileSummary{}
	}
	if v, ok := s.verified[id]; ok {
		d.Verificacao = &v
	}
	return d, nil
}

// Verify reads and hashes every chunk the backup needs and records the result.
func (s *Service) Verify(ctx context.Context, id string) (Verification, error) {
	s.mu.Lock()
	_, ok := s.catalog[id]
	s.mu.Unlock()
	if !ok {
		return Verification{}, ErrNotFound
	}
	rep, err := s.verifyBackup(ctx, id)
	if err != nil && !errors.Is(err, repo.ErrCorrupt) {
		return Verification{}, err
	}
	v := Verification{Em: s.now().UTC(), OK: err == nil && len(rep.Problems) == 0, Problemas: rep.Problems, Blocos: rep.Chunks, Bytes: rep.Bytes}
	if err != nil {
		v.Problemas = append(v.Problemas, err.Error())
	}
	if v.Problemas == nil {
		v.Problemas = []string{}
	}
	b, _ := json.Marshal(v)
	if err := s.repo.SaveManifest(ctx, "verificado-"+id, b); err != nil {
		s.log.Warn("backup: could not record a verification", "id", id, "error", err)
	}
	s.mu.Lock()
	s.verified[id] = v
	s.mu.Unlock()
	return v, nil
}

// Delete removes a backup. A backup others depend on is refused with ErrDependent, unless
// cascade removes them too. The chunks no remaining backup uses are then pruned.
func (s *Service) Delete(ctx context.Context, id string, cascade bool) ([]string, error) {
	var removed []string
	err := s.exclusive(ctx, func(ctx context.Context) error {
		s.mu.Lock()
		_, ok := s.catalog[id]
		deps := s.dependents(id)
		s.mu.Unlock()
		if !ok {
			return ErrNotFound
		}
		if len(deps) > 0 && !cascade {
			return fmt.Errorf("%w: %s", ErrDependent, strings.Join(deps, ", "))
		}
		// dependents first (newest first), so a crash never leaves a backup without its base
		sort.Sort(sort.Reverse(sort.StringSlice(deps)))
		for _, d := range append(deps, id) {
			if err := s.repo.DeleteManifest(ctx, d); err != nil {
				return err
			}
			_ = s.repo.DeleteManifest(ctx, "verificado-"+d)
			s.mu.Lock()
			delete(s.catalog, d)
			delete(s.verified, d)
			s.mu.Unlock()
			removed = append(removed, d)
		}
		_, err := s.prune(ctx)
		return err
	})
	return removed, err
}

// prune removes the chunks no backup references (caller holds the exclusive lock).
func (s *Service) prune(ctx context.Context) (repo.PruneReport, error) {
	s.mu.Lock()
	if n := len(s.unreadable); n > 0 {
		first := s.unreadable[0]
		s.mu.Unlock()
		return repo.PruneReport{}, fmt.Errorf("%d manifesto(s) ilegível(is) neste armazenamento (%s...): nenhum bloco removido, "+
			"pois eles podem referenciá-los (verifique o manifesto, ou use a versão do painel que o gravou)", n, first)
	}
	all := map[string]bool{}
	for id := range s.catalog {
		all[id] = true
	}
	keep := s.referenced(all)
	s.mu.Unlock()
	return s.repo.Prune(ctx, func(id repo.ID) bool { return keep[id] })
}

// RetentionResult reports what a retention pass did.
type RetentionResult struct {
	Mantidos       map[string][]string `json:"mantidos"`
	Removidos      []string            `json:"removidos"`
	BytesLiberados int64               `json:"bytes_liberados"`
}

// ApplyRetention removes the backups the policy does not keep (never breaking a chain) and
// prunes the store.
func (s *Service) ApplyRetention(ctx context.Context, r Retention, dryRun bool) (RetentionResult, error) {
	var res RetentionResult
	err := s.exclusive(ctx, func(ctx context.Context) error {
		s.mu.Lock()
		var list []retained
		for _, m := range s.catalog {
			list = append(list, retained{ID: m.ID, At: m.Inicio, Parent: m.Pai})
		}
		s.mu.Unlock()
		d := r.apply(list, s.opts.Location)
		res.Mantidos, res.Removidos = d.Keep, d.Removes
		if res.Removidos == nil {
			res.Removidos = []string{}
		}
		if dryRun || len(d.Removes) == 0 {
			return nil
		}
		for _, id := range d.Removes { // newest first: dependents before their bases
			if err := s.repo.DeleteManifest(ctx, id); err != nil {
				return err
			}
			_ = s.repo.DeleteManifest(ctx, "verificado-"+id)
			s.mu.Lock()
			delete(s.catalog, id)
			delete(s.verified, id)
			s.mu.Unlock()
		}
		rep, err := s.prune(ctx)
		res.BytesLiberados = rep.BytesFreed
		return err
	})
	return res, err
}

// exclusive runs fn while holding the backup lock of this process and of every instance
// sharing the database (PostgreSQL advisory lock) or the data folder (file lock on SQLite).
func (s *Service) exclusive(ctx context.Context, fn func(context.Context) error) error {
	release, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer release()
	return fn(ctx)
}

// backupLockKey is the advisory lock of backup runs ("bkup" in ASCII).
const backupLockKey = 0x626b7570

func (s *Service) lock(ctx context.Context) (func(), error) {
	if !s.jobMu.TryLock() {
		return nil, ErrBusy
	}
	switch s.st.Dialect {
	case store.PostgresDialect:
		conn, err := s.st.DB.Conn(ctx)
		if err != nil {
			s.jobMu.Unlock()
			return nil, err
		}
		var got bool
		if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, backupLockKey).Scan(&got); err != nil || !got {
			conn.Close()
			s.jobMu.Unlock()
			if err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("%w (em outra instância)", ErrBusy)
		}
		return func() {
			_, _ = conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, backupLockKey)
			conn.Close()
			s.jobMu.Unlock()
		}, nil
	default:
		f, err := os.OpenFile(filepath.Join(s.opts.TempDir, "backup.lock"), os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			s.jobMu.Unlock()
			return nil, err
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			s.jobMu.Unlock()
			return nil, fmt.Errorf("%w (em outro processo)", ErrBusy)
		}
		return func() {
			_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
			f.Close()
			s.jobMu.Unlock()
		}, nil
	}
}

// Config is GET/PUT /backup/configuracao.
type Config struct {
	Agendamento Schedule  `json:"agendamento" required:"false"`
	Retencao    Retention `json:"retencao" required:"false"`
	Fontes      []string  `json:"fontes" maxItems:"50" doc:"Extra files, folders or SQLite databases to back up (absolute paths)" required:"false"`
}

// Schedule holds a cron expression per type ("" = not scheduled).
type Schedule struct {
	Completo    string `json:"completo" maxLength:"100" doc:"Cron expression (5 fields, or @daily, @weekly...), e.g. 0 3 * * 0" required:"false"`
	Diferencial string `json:"diferencial" maxLength:"100" required:"false"`
	Incremental string `json:"incremental" maxLength:"100" required:"false"`
}

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

func (c *Config) validate() error {
	for field, expr := range map[string]string{"agendamento.completo": c.Agendamento.Completo,
		"agendamento.diferencial": c.Agendamento.Diferencial, "agendamento.incremental": c.Agendamento.Incremental} {
		if strings.TrimSpace(expr) == "" {
			continue
		}
		if _, err := cronParser.Parse(expr); err != nil {
			return &FieldError{Field: field, Reason: "expressão cron inválida: " + err.Error()}
		}
	}
	for i, f := range c.Fontes {
		if !filepath.IsAbs(f) || filepath.Clean(f) != f {
			return &FieldError{Field: fmt.Sprintf("fontes[%d]", i), Reason: "caminho absoluto e limpo"}
		}
		if _, err := os.Stat(f); err != nil {
			return &FieldError{Field: fmt.Sprintf("fontes[%d]", i), Reason: "não existe ou não pode ser lido"}
		}
	}
	r := c.Retencao
	for _, n := range []int{r.ManterUltimos, r.ManterHorarios, r.ManterDiarios, r.ManterSemanais, r.ManterMensais, r.ManterAnuais} {
		if n < 0 {
			return &FieldError{Field: "retencao", Reason: "valores não negativos"}
		}
	}
	return nil
}

const configKey = "backup.configuracao"

// GetConfig returns the stored configuration (defaults: no schedule, keep the last 7 daily,
// 4 weekly and 6 monthly backups).
func (s *Service) GetConfig(ctx context.Context) (Config, error) {
	c := Config{Retencao: Retention{ManterDiarios: 7, ManterSemanais: 4, ManterMensais: 6}, Fontes: []string{}}
	v, err := s.st.GetMeta(ctx, configKey)
	if errors.Is(err, store.ErrNotFound) {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal([]byte(v), &c); err != nil {
		return c, fmt.Errorf("backup config: %w", err)
	}
	if c.Fontes == nil {
		c.Fontes = []string{}
	}
	return c, nil
}

// PutConfig validates and stores the configuration.
func (s *Service) PutConfig(ctx context.Context, c Config) (Config, error) {
	if c.Fontes == nil {
		c.Fontes = []string{}
	}
	if err := c.validate(); err != nil {
		return c, err
	}
	b, _ := json.Marshal(c)
	return c, s.st.PutMeta(ctx, configKey, string(b))
}
