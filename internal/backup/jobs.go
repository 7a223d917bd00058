package backup

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/painel-universal/painel/internal/backup/chunk"
	"github.com/painel-universal/painel/internal/store"
)

// JobInfo is what the API shows of a job.
type JobInfo struct {
	ID               string     `json:"id"`
	Tipo             string     `json:"tipo" doc:"completo, diferencial, incremental or restauracao"`
	Status           string     `json:"status" enum:"executando,concluido,falhou"`
	Fase             string     `json:"fase"`
	Arquivos         int64      `json:"arquivos"`
	ArquivosTotal    int64      `json:"arquivos_total"`
	BytesLidos       int64      `json:"bytes_lidos"`
	BytesArmazenados int64      `json:"bytes_armazenados"`
	ETASegundos      *float64   `json:"eta_segundos"`
	BackupID         string     `json:"backup_id,omitempty"`
	Destino          string     `json:"destino,omitempty"`
	Erro             string     `json:"erro,omitempty"`
	Inicio           time.Time  `json:"inicio"`
	Fim              *time.Time `json:"fim"`
}

// Job is a backup or restore running in the background.
type Job struct {
	ID   string
	Tipo string

	mu   sync.Mutex
	info JobInfo // guarded by mu (the counters live in p)
	p    progress
	done chan struct{}
}

// snapshot returns the job's view with its live counters.
func (j *Job) snapshot(now time.Time) JobInfo {
	j.mu.Lock()
	c := j.info
	j.mu.Unlock()
	if ph, ok := j.p.phase.Load().(string); ok {
		c.Fase = ph
	}
	c.Arquivos, c.ArquivosTotal = j.p.files.Load(), j.p.filesTotal.Load()
	c.BytesLidos, c.BytesArmazenados = j.p.read.Load(), j.p.stored.Load()
	if c.Status == "executando" {
		el := now.Sub(c.Inicio).Seconds()
		if exp := j.p.expected.Load(); exp > 0 && c.BytesLidos > 0 && el > 0 {
			eta := max(float64(exp-c.BytesLidos)/(float64(c.BytesLidos)/el), 0)
			c.ETASegundos = &eta
		}
	} else {
		zero := 0.0
		c.ETASegundos = &zero
	}
	return c
}

// Wait blocks until the job ends or ctx does.
func (j *Job) Wait(ctx context.Context) error {
	select {
	case <-j.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

const keepJobs = 100

// start runs fn as a job holding the exclusive lock; a second job while one runs gets ErrBusy
// with the running job.
func (s *Service) start(ctx context.Context, tipo, dest string, fn func(context.Context, *Job) error) (*Job, error) {
	release, err := s.lock(ctx)
	if err != nil {
		return s.Running(), err
	}
	now := s.now().UTC()
	id := "job-" + newID(now)
	j := &Job{ID: id, Tipo: tipo, done: make(chan struct{}), info: JobInfo{ID: id, Tipo: tipo, Status: "executando", Destino: dest, Inicio: now}}
	j.p.setPhase("iniciando")
	s.mu.Lock()
	s.jobs[j.ID] = j
	s.order = append(s.order, j.ID)
	if len(s.order) > keepJobs {
		delete(s.jobs, s.order[0])
		s.order = s.order[1:]
	}
	s.running = j
	s.mu.Unlock()
	// The job keeps ctx's values but not its end (the request that started it returns at
	// once); it ends with the service (Close).
	jctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	unhook := context.AfterFunc(s.jobsCtx, stop)
	s.jobsWG.Add(1)
	go func() {
		defer s.jobsWG.Done()
		defer stop()
		defer unhook()
		defer close(j.done)
		defer release()
		err := fn(jctx, j)
		end := s.now().UTC()
		j.mu.Lock()
		j.info.Fim = &end
		if err != nil {
			j.info.Status, j.info.Erro = "falhou", err.Error()
		} else {
			j.info.Status = "concluido"
		}
		status, backupID := j.info.Status, j.info.BackupID
		j.mu.Unlock()
		j.p.setPhase(status)
		s.mu.Lock()
		if s.running == j {
			s.running = nil
		}
		s.mu.Unlock()
		if err != nil {
			s.log.Error("backup: job failed", "job", j.ID, "tipo", tipo, "error", err)
		} else {
			s.log.Info("backup: job done", "job", j.ID, "tipo", tipo, "backup", backupID, "bytes_lidos", j.p.read.Load(), "bytes_armazenados", j.p.stored.Load())
		}
	}()
	return j, nil
}

// Running returns the running job, or nil.
func (s *Service) Running() *Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running
}

// Job returns a job by id.
func (s *Service) Job(id string) (*Job, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[id]
	return j, ok
}

// JobView is a job's current view.
func (s *Service) JobView(j *Job) JobInfo { return j.snapshot(s.now()) }

// StartBackup starts a backup of tipo in the background; retention runs after it.
func (s *Service) StartBackup(ctx context.Context, tipo string) (*Job, error) {
	if tipo != Full && tipo != Differential && tipo != Incremental {
		return nil, &FieldError{Field: "tipo", Reason: "um de completo, diferencial, incremental"}
	}
	cfg, err := s.GetConfig(ctx)
	if err != nil {
		return nil, err
	}
	return s.start(ctx, tipo, "", func(ctx context.Context, j *Job) error {
		m, err := s.runBackup(ctx, tipo, cfg, &j.p)
		if err != nil {
			return err
		}
		j.mu.Lock()
		j.info.BackupID, j.info.Tipo = m.ID, m.Tipo
		j.mu.Unlock()
		j.p.setPhase("retencao")
		if err := s.retainLocked(ctx, cfg.Retencao); err != nil {
			s.log.Warn("backup: retention after the backup failed", "error", err)
		}
		return nil
	})
}

// retainLocked applies retention while the caller holds the lock.
func (s *Service) retainLocked(ctx context.Context, r Retention) error {
	if r.empty() {
		return nil
	}
	s.mu.Lock()
	var list []retained
	for _, m := range s.catalog {
		list = append(list, retained{ID: m.ID, At: m.Inicio, Parent: m.Pai})
	}
	s.mu.Unlock()
	d := r.apply(list, s.opts.Location)
	if len(d.Removes) == 0 {
		return nil
	}
	for _, id := range d.Removes {
		if err := s.repo.DeleteManifest(ctx, id); err != nil {
			return err
		}
		_ = s.repo.DeleteManifest(ctx, "verificado-"+id)
		s.mu.Lock()
		delete(s.catalog, id)
		delete(s.verified, id)
		s.mu.Unlock()
	}
	_, err := s.prune(ctx)
	return err
}

// StartRestore restores a backup into a folder under the restore root, in the background;
// integridade is the check restored SQLite files must pass (CheckQuick, the default when empty,
// or CheckFull).
func (s *Service) StartRestore(ctx context.Context, id, destino, integridade string) (*Job, error) {
	switch integridade {
	case "":
		integridade = CheckQuick
	case CheckQuick, CheckFull:
	default:
		return nil, &FieldError{Field: "integridade", Reason: "use rapida ou completa"}
	}
	s.mu.Lock()
	_, ok := s.catalog[id]
	s.mu.Unlock()
	if !ok {
		return nil, ErrNotFound
	}
	dest, err := restoreTarget(s.opts.RestoreDir, destino)
	if err != nil {
		return nil, &FieldError{Field: "destino", Reason: err.Error()}
	}
	if entries, err := readDirNames(dest); err == nil && len(entries) > 0 {
		return nil, &FieldError{Field: "destino", Reason: "a pasta já existe e não está vazia"}
	}
	return s.start(ctx, "restauracao", dest, func(ctx context.Context, j *Job) error {
		j.mu.Lock()
		j.info.BackupID = id
		j.mu.Unlock()
		_, err := s.restoreTo(ctx, id, dest, integridade, &j.p)
		return err
	})
}

// StartLiveRestore restores the database of backup id into the live database: the file is
// restored and verified first, then, in maintenance, copied into the live SQLite database with
// the online backup API (other connections see the old or the new database, never a mix) or
// loaded into the PostgreSQL schema in one transaction; then migrations run (an older backup
// may predate some) and the modules reload what they keep in memory.
func (s *Service) StartLiveRestore(ctx context.Context, id string) (*Job, error) {
	if s.opts.Maintenance == nil {
		return nil, &FieldError{Field: "destino", Reason: "restaurar o banco ativo não está disponível aqui (use uma pasta)"}
	}
	s.mu.Lock()
	st, _, err := s.resolve(id)
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	name := "banco/painel.db"
	if s.st.Dialect == store.PostgresDialect {
		name = "banco/postgres.dump"
	}
	entry, ok := st[name]
	if !ok {
		return nil, &FieldError{Field: "destino", Reason: fmt.Sprintf("o backup não tem %s: foi feito com outro banco (%s)", name, s.catalog[id].Banco)}
	}
	return s.start(ctx, "restauracao", "ativo", func(ctx context.Context, j *Job) error {
		j.mu.Lock()
		j.info.BackupID = id
		j.mu.Unlock()
		j.p.filesTotal.Store(1)
		j.p.expected.Store(entry.Size)
		j.p.setPhase("restaurando")
		tmp, err := os.MkdirTemp(s.opts.TempDir, "ativo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		file := filepath.Join(tmp, filepath.Base(name))
		if err := s.restoreFile(ctx, entry, file, CheckFull, true, nil, nil, &j.p); err != nil {
			return err
		}
		j.p.setPhase("manutencao")
		return s.opts.Maintenance(ctx, "restaurando o banco do backup "+id, func(ctx context.Context) error {
			if s.st.Dialect == store.PostgresDialect {
				f, err := os.Open(file)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := chunk.RestorePostgres(ctx, s.st.DB, f); err != nil {
					return err
				}
			} else if err := chunk.RestoreSQLiteInto(ctx, s.st.DB, file); err != nil {
				return err
			}
			j.p.files.Store(1)
			if _, err := s.st.Migrate(ctx); err != nil {
				return fmt.Errorf("migrations after the restore: %w", err)
			}
			if s.opts.AfterLiveRestore != nil {
				return s.opts.AfterLiveRestore(ctx)
			}
			return nil
		})
	})
}

// Run starts the scheduled backups until ctx ends: for each type with a cron expression, at
// its next time. A run that finds another in progress is skipped (logged).
func (s *Service) Run(ctx context.Context) error {
	for {
		cfg, err := s.GetConfig(ctx)
		if err != nil {
			s.log.Warn("backup: reading the schedule", "error", err)
		}
		now := s.now()
		next, tipo := time.Time{}, ""
		for t, expr := range map[string]string{Full: cfg.Agendamento.Completo, Differential: cfg.Agendamento.Diferencial, Incremental: cfg.Agendamento.Incremental} {
			if expr == "" {
				continue
			}
			sch, err := cronParser.Parse(expr)
			if err != nil {
				continue
			}
			// a full wins over the others at the same minute, a differential over an incremental
			if n := sch.Next(now); next.IsZero() || n.Before(next) || (n.Equal(next) && rank(t) < rank(tipo)) {
				next, tipo = n, t
			}
		}
		wait := time.Minute // re-read the schedule at least every minute
		if !next.IsZero() && next.Sub(now) < wait {
			wait = next.Sub(now)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		if tipo != "" && !s.now().Before(next) {
			if _, err := s.StartBackup(ctx, tipo); err != nil {
				s.log.Warn("backup: scheduled run not started", "tipo", tipo, "error", err)
			}
		}
	}
}

func rank(t string) int {
	switch t {
	case Full:
		return 0
	case Differential:
		return 1
	}
	return 2
}

func readDirNames(p string) ([]string, error) {
	f, err := openDir(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(1)
}

// Describe names a job for logs.
func (j *Job) String() string { return fmt.Sprintf("%s(%s)", j.ID, j.Tipo) }
