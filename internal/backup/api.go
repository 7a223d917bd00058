package backup

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/painel-universal/painel/internal/backup/repo"
	"github.com/painel-universal/painel/internal/httpapi"
)

type api struct {
	s   *Service
	log *slog.Logger
}

func (a *api) err(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, ErrNotFound):
		return huma.Error404NotFound(err.Error())
	case errors.Is(err, ErrBusy):
		detail := err.Error()
		if j := a.s.Running(); j != nil {
			detail += ": " + j.ID + " (" + j.Tipo + ")"
		}
		return huma.Error409Conflict(detail)
	case errors.Is(err, ErrDependent):
		return huma.Error409Conflict(err.Error() + "; use ?cascata=true para removê-los também")
	case errors.Is(err, repo.ErrCorrupt):
		return huma.Error422UnprocessableEntity("o backup está corrompido: " + err.Error())
	}
	return httpapi.ServiceError(ctx, a.log, "backup", err)
}

type backupRunInput struct {
	Body struct {
		Tipo string `json:"tipo" enum:"completo,diferencial,incremental"`
	}
}

type backupJobOutput struct {
	Location string `header:"Location"`
	Body     JobInfo
}

type backupJobInput struct {
	ID       string `path:"id" maxLength:"64"`
	Aguardar bool   `query:"aguardar" doc:"Wait (up to 10 minutes) until the job ends"`
}

type backupListInput struct {
	Pagina    int `query:"pagina" default:"1" minimum:"1" maximum:"100000"`
	PorPagina int `query:"por_pagina" default:"50" minimum:"1" maximum:"500"`
}

type backupListOutput struct {
	Body struct {
		Backups   []Summary `json:"backups"`
		Pagina    int       `json:"pagina"`
		PorPagina int       `json:"por_pagina"`
		Total     int       `json:"total"`
	}
}

type backupIdInput struct {
	ID string `path:"id" pattern:"^[0-9]{8}t[0-9]{9}z-[0-9a-f]{6}$" doc:"Backup id, e.g. 20261128t214901123z-1a2b3c"`
}

// backupVerifyInput: the route is /backup/{id}/{acao} with acao = verificar, because the standard
// mux cannot hold both /backup/{id}/verificar and /backup/restaurar/{backupId} (each matches
// /backup/restaurar/verificar and neither is more specific); restaurar/{backupId} stays the
// more specific of the two.
type backupVerifyInput struct {
	ID   string `path:"id" pattern:"^[0-9]{8}t[0-9]{9}z-[0-9a-f]{6}$" doc:"Backup id"`
	Acao string `path:"acao" enum:"verificar"`
}

type backupDeleteInput struct {
	ID      string `path:"id" pattern:"^[0-9]{8}t[0-9]{9}z-[0-9a-f]{6}$"`
	Cascata bool   `query:"cascata" doc:"Also remove the backups that depend on this one"`
}

type backupDeleteOutput struct {
	Body struct {
		Removidos []string `json:"removidos"`
	}
}

type backupRestoreInput struct {
	ID   string `path:"backupId" pattern:"^[0-9]{8}t[0-9]{9}z-[0-9a-f]{6}$"`
	Body struct {
		Destino     string `json:"destino" minLength:"1" maxLength:"255" doc:"A folder name under the restore root (PAINEL_BACKUP_RESTORE_DIR), or ativo to restore the live database"`
		Integridade string `json:"integridade,omitempty" enum:"rapida,completa" doc:"Check of restored SQLite files: rapida (PRAGMA quick_check, the default for a folder) or completa (PRAGMA integrity_check, which also compares every index with its table; always used for ativo). Every chunk's and file's SHA-256 is verified either way."`
	}
}

type backupConfigOutput struct{ Body Config }

type backupConfigInput struct{ Body Config }

type backupRetentionInput struct {
	Body *struct {
		Simular bool `json:"simular,omitempty" doc:"Only report what would be removed"`
	}
}

type backupRetentionOutput struct{ Body RetentionResult }

type backupVerifyOutput struct{ Body Verification }

type backupDetailOutput struct{ Body Detail }

// Register mounts the /backup routes.
func Register(hapi huma.API, s *Service, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &api{s: s, log: log}
	tags := []string{"backup"}
	huma.Register(hapi, huma.Operation{OperationID: "backup-executar", Method: http.MethodPost, Path: "/backup/executar", Tags: tags,
		Summary: "Start a backup", DefaultStatus: http.StatusAccepted,
		Description: "Starts a full (`completo`), differential or incremental backup in the background and answers 202 with the job. A differential or incremental without a full before it is made as a full. While a backup or restore runs, another request gets 409 naming the running job.",
		Errors:      []int{http.StatusConflict, http.StatusUnprocessableEntity}},
		func(ctx context.Context, in *backupRunInput) (*backupJobOutput, error) {
			j, err := s.StartBackup(ctx, in.Body.Tipo)
			if err != nil {
				return nil, a.err(ctx, err)
			}
			return &backupJobOutput{Location: "/backup/jobs/" + j.ID, Body: s.JobView(j)}, nil
		})
	huma.Register(hapi, huma.Operation{OperationID: "backup-job", Method: http.MethodGet, Path: "/backup/jobs/{id}", Tags: tags,
		Summary: "A job's phase, files, bytes read and stored, and ETA", Errors: []int{http.StatusNotFound}},
		func(ctx context.Context, in *backupJobInput) (*backupJobOutput, error) {
			j, ok := s.Job(in.ID)
			if !ok {
				return nil, huma.Error404NotFound("job não encontrado")
			}
			if in.Aguardar {
				wctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
				defer cancel()
				_ = j.Wait(wctx)
			}
			return &backupJobOutput{Body: s.JobView(j)}, nil
		})
	huma.Register(hapi, huma.Operation{OperationID: "backup-listar", Method: http.MethodGet, Path: "/backup/listar", Tags: tags,
		Summary: "Backups, newest first"}, func(ctx context.Context, in *backupListInput) (*backupListOutput, error) {
		out := &backupListOutput{}
		out.Body.Backups, out.Body.Total = s.List(in.Pagina, in.PorPagina)
		out.Body.Pagina, out.Body.PorPagina = in.Pagina, in.PorPagina
		return out, nil
	})
	huma.Register(hapi, huma.Operation{OperationID: "backup-configuracao-ler", Method: http.MethodGet, Path: "/backup/configuracao", Tags: tags,
		Summary: "Schedules, retention and extra sources"}, func(ctx context.Context, _ *struct{}) (*backupConfigOutput, error) {
		c, err := s.GetConfig(ctx)
		if err != nil {
			return nil, a.err(ctx, err)
		}
		return &backupConfigOutput{Body: c}, nil
	})
	huma.Register(hapi, huma.Operation{OperationID: "backup-configuracao-alterar", Method: http.MethodPut, Path: "/backup/configuracao", Tags: tags,
		Summary: "Set schedules (cron), retention and extra sources", Errors: []int{http.StatusUnprocessableEntity}},
		func(ctx context.Context, in *backupConfigInput) (*backupConfigOutput, error) {
			c, err := s.PutConfig(ctx, in.Body)
			if err != nil {
				return nil, a.err(ctx, err)
			}
			return &backupConfigOutput{Body: c}, nil
		})
	huma.Register(hapi, huma.Operation{OperationID: "backup-retencao", Method: http.MethodPost, Path: "/backup/retencao", Tags: tags,
		Summary: "Apply the retention policy now", Description: "Removes the backups the policy does not keep (never one a kept backup depends on) and the chunks nothing references. `simular` only reports.",
		Errors: []int{http.StatusConflict}},
		func(ctx context.Context, in *backupRetentionInput) (*backupRetentionOutput, error) {
			c, err := s.GetConfig(ctx)
			if err != nil {
				return nil, a.err(ctx, err)
			}
			res, err := s.ApplyRetention(ctx, c.Retencao, in.Body != nil && in.Body.Simular)
			if err != nil {
				return nil, a.err(ctx, err)
			}
			return &backupRetentionOutput{Body: res}, nil
		})
	huma.Register(hapi, huma.Operation{OperationID: "backup-restaurar", Method: http.MethodPost, Path: "/backup/restaurar/{backupId}", Tags: tags,
		Summary: "Restore a backup", DefaultStatus: http.StatusAccepted,
		Description: "Restores the backup (its whole chain) into `destino`, a folder resolved under the restore root; absolute paths outside it and `..` are refused with 422. Every chunk and file hash is verified and SQLite files must pass PRAGMA quick_check (`integridade: rapida`, the default) or integrity_check (`completa`, always for `ativo`).",
		Errors:      []int{http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity}},
		func(ctx context.Context, in *backupRestoreInput) (*backupJobOutput, error) {
			var j *Job
			var err error
			if in.Body.Destino == "ativo" {
				j, err = s.StartLiveRestore(ctx, in.ID)
			} else {
				j, err = s.StartRestore(ctx, in.ID, in.Body.Destino, in.Body.Integridade)
			}
			if err != nil {
				return nil, a.err(ctx, err)
			}
			return &backupJobOutput{Location: "/backup/jobs/" + j.ID, Body: s.JobView(j)}, nil
		})
	huma.Register(hapi, huma.Operation{OperationID: "backup-ler", Method: http.MethodGet, Path: "/backup/{id}", Tags: tags,
		Summary: "A backup: its chain, dependents, files and last verification", Errors: []int{http.StatusNotFound}},
		func(ctx context.Context, in *backupIdInput) (*backupDetailOutput, error) {
			d, err := s.Get(in.ID)
			if err != nil {
				return nil, a.err(ctx, err)
			}
			return &backupDetailOutput{Body: d}, nil
		})
	huma.Register(hapi, huma.Operation{OperationID: "backup-verificar", Method: http.MethodPost, Path: "/backup/{id}/{acao}", Tags: tags,
		Summary: "Verify a backup: POST /backup/{id}/verificar", Description: "Reads and hashes every chunk the backup (and its chain) needs, checks its manifests, and records the result (`verificado_em`).",
		Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity}},
		func(ctx context.Context, in *backupVerifyInput) (*backupVerifyOutput, error) {
			v, err := s.Verify(ctx, in.ID)
			if err != nil {
				return nil, a.err(ctx, err)
			}
			return &backupVerifyOutput{Body: v}, nil
		})
	huma.Register(hapi, huma.Operation{OperationID: "backup-remover", Method: http.MethodDelete, Path: "/backup/{id}", Tags: tags,
		Summary: "Delete a backup", Description: "Refused with 409 when other backups depend on it, unless `cascata=true`. The chunks no backup uses any more are removed.",
		Errors: []int{http.StatusNotFound, http.StatusConflict}},
		func(ctx context.Context, in *backupDeleteInput) (*backupDeleteOutput, error) {
			removed, err := s.Delete(ctx, in.ID, in.Cascata)
			if err != nil {
				return nil, a.err(ctx, err)
			}
			out := &backupDeleteOutput{}
			out.Body.Removidos = removed
			return out, nil
		})
}
