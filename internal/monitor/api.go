package monitor

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/painel-universal/painel/internal/httpapi"
	"github.com/painel-universal/painel/internal/monitor/collect"
)

type api struct {
	s   *Service
	log *slog.Logger
}

func (a *api) err(ctx context.Context, err error) error {
	if errors.Is(err, ErrNotFound) {
		return huma.Error404NotFound("não encontrado")
	}
	return httpapi.ServiceError(ctx, a.log, "monitoramento", err)
}

type latestOutput struct {
	Body struct {
		Momento time.Time          `json:"momento"`
		Valores map[string]float64 `json:"valores"`
	}
}

// MetricName describes one metric.
type MetricName struct {
	Nome      string `json:"nome"`
	Unidade   string `json:"unidade"`
	Descricao string `json:"descricao"`
}

type namesOutput struct {
	Body struct {
		Nomes []MetricName `json:"nomes"`
	}
}

type dashboardOutput struct{ Body Dashboard }

type historyInput struct {
	Metrica string    `query:"metrica" required:"true" minLength:"1" maxLength:"200"`
	De      time.Time `query:"de" doc:"RFC 3339; default one hour before ate"`
	Ate     time.Time `query:"ate" doc:"RFC 3339; default now"`
	Pontos  int       `query:"pontos" default:"300" minimum:"1" maximum:"5000"`
}

type historyOutput struct{ Body HistoryResult }

type idInput struct {
	ID int64 `path:"id" minimum:"1"`
}

type ruleBody struct{ Body RuleInput }

type ruleIDBody struct {
	ID   int64 `path:"id" minimum:"1"`
	Body RuleInput
}

type ruleOutput struct{ Body Rule }

type rulesOutput struct {
	Body struct {
		Regras []Rule `json:"regras"`
	}
}

type eventsInput struct {
	Pagina    int    `query:"pagina" default:"1" minimum:"1" maximum:"100000"`
	PorPagina int    `query:"por_pagina" default:"50" minimum:"1" maximum:"500"`
	Estado    string `query:"estado" enum:"disparado,resolvido," doc:"Filter by state"`
	RegraID   int64  `query:"regra_id" minimum:"0"`
}

type eventsOutput struct{ Body EventPage }

type ackInput struct {
	ID   int64 `path:"id" minimum:"1"`
	Body *struct {
		Por string `json:"por,omitempty" maxLength:"120" doc:"Who acknowledges"`
	}
}

type eventOutput struct{ Body Event }

type silenceBody struct{ Body SilenceInput }

type silenceOutput struct{ Body Silence }

type silencesOutput struct {
	Body struct {
		Silencios []Silence `json:"silencios"`
	}
}

// Register mounts the /monitoramento routes on api and the WebSocket on mux.
//
// wsGuard, when given, wraps the WebSocket handler (it runs before the upgrade, so it can
// refuse the request with a problem document).
func Register(hapi huma.API, mux *http.ServeMux, s *Service, log *slog.Logger, wsGuard ...func(http.Handler) http.Handler) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &api{s: s, log: log}
	tags := []string{"monitoramento"}
	huma.Register(hapi, huma.Operation{OperationID: "monitoramento-metricas", Method: http.MethodGet, Path: "/monitoramento/metricas",
		Tags: tags, Summary: "The latest sample"}, func(ctx context.Context, _ *struct{}) (*latestOutput, error) {
		out := &latestOutput{}
		at, v := s.Latest()
		out.Body.Momento, out.Body.Valores = at.UTC(), v
		return out, nil
	})
	huma.Register(hapi, huma.Operation{OperationID: "monitoramento-metricas-nomes", Method: http.MethodGet, Path: "/monitoramento/metricas/nomes",
		Tags: tags, Summary: "The metric names, with units and descriptions"}, func(ctx context.Context, _ *struct{}) (*namesOutput, error) {
		out := &namesOutput{}
		out.Body.Nomes = []MetricName{}
		for _, n := range s.Names() {
			unit, desc := collect.Describe(n)
			out.Body.Nomes = append(out.Body.Nomes, MetricName{Nome: n, Unidade: unit, Descricao: desc})
		}
		return out, nil
	})
	huma.Register(hapi, huma.Operation{OperationID: "monitoramento-dashboard", Method: http.MethodGet, Path: "/monitoramento/dashboard",
		Tags: tags, Summary: "Current values, 5-minute trend, active alerts, worst mount, busiest interface"},
		func(ctx context.Context, _ *struct{}) (*dashboardOutput, error) {
			d, err := s.Dashboard(ctx)
			if err != nil {
				return nil, a.err(ctx, err)
			}
			return &dashboardOutput{Body: d}, nil
		})
	huma.Register(hapi, huma.Operation{OperationID: "monitoramento-historico", Method: http.MethodGet, Path: "/monitoramento/historico",
		Tags: tags, Summary: "History of a metric",
		Description: "Picks the tier that fits the range (raw samples for 24 h, 1-minute min/avg/max for 30 days, 1-hour for a year) and returns at most `pontos` points, merging buckets (min of mins, mean, max of maxes) when there are more.",
		Errors:      []int{http.StatusUnprocessableEntity}},
		func(ctx context.Context, in *historyInput) (*historyOutput, error) {
			now := s.now()
			to, from := in.Ate, in.De
			if to.IsZero() {
				to = now
			}
			if from.IsZero() {
				from = to.Add(-time.Hour)
			}
			if !from.Before(to) {
				return nil, huma.Error422UnprocessableEntity("validation failed", &huma.ErrorDetail{Location: "query.de", Message: "de deve ser anterior a ate"})
			}
			if !validMetricName(in.Metrica) {
				return nil, huma.Error422UnprocessableEntity("validation failed", &huma.ErrorDetail{Location: "query.metrica", Message: "nome de métrica inválido", Value: in.Metrica})
			}
			res, err := s.History(ctx, in.Metrica, from, to, in.Pontos)
			if err != nil {
				return nil, a.err(ctx, err)
			}
			return &historyOutput{Body: res}, nil
		})

	huma.Register(hapi, huma.Operation{OperationID: "monitoramento-alertas-criar", Method: http.MethodPost, Path: "/monitoramento/alertas",
		Tags: tags, Summary: "Create an alert rule", DefaultStatus: http.StatusCreated, Errors: []int{http.StatusUnprocessableEntity}},
		func(ctx context.Context, in *ruleBody) (*ruleOutput, error) {
			r, err := s.CreateRule(ctx, in.Body)
			if err != nil {
				return nil, a.err(ctx, err)
			}
			return &ruleOutput{Body: r}, nil
		})
	huma.Register(hapi, huma.Operation{OperationID: "monitoramento-alertas-listar", Method: http.MethodGet, Path: "/monitoramento/alertas",
		Tags: tags, Summary: "List the alert rules with their states"}, func(ctx context.Context, _ *struct{}) (*rulesOutput, error) {
		rs, err := s.ListRules(ctx)
		if err != nil {
			return nil, a.err(ctx, err)
		}
		out := &rulesOutput{}
		out.Body.Regras = rs
		return out, nil
	})
	huma.Register(hapi, huma.Operation{OperationID: "monitoramento-alertas-eventos", Method: http.MethodGet, Path: "/monitoramento/alertas/eventos",
		Tags: tags, Summary: "Firing and resolved alert events, newest first"}, func(ctx context.Context, in *eventsInput) (*eventsOutput, error) {
		p, err := s.ListEvents(ctx, in.Pagina, in.PorPagina, in.Estado, in.RegraID)
		if err != nil {
			return nil, a.err(ctx, err)
		}
		return &eventsOutput{Body: p}, nil
	})
	huma.Register(hapi, huma.Operation{OperationID: "monitoramento-alertas-reconhecer", Method: http.MethodPost, Path: "/monitoramento/alertas/eventos/{id}/reconhecer",
		Tags: tags, Summary: "Acknowledge an alert event", Errors: []int{http.StatusNotFound}}, func(ctx context.Context, in *ackInput) (*eventOutput, error) {
		por := ""
		if in.Body != nil {
			por = strings.TrimSpace(in.Body.Por)
		}
		e, err := s.Acknowledge(ctx, in.ID, por)
		if err != nil {
			return nil, a.err(ctx, err)
		}
		return &eventOutput{Body: e}, nil
	})
	huma.Register(hapi, huma.Operation{OperationID: "monitoramento-alertas-ler", Method: http.MethodGet, Path: "/monitoramento/alertas/{id}",
		Tags: tags, Summary: "Read an alert rule", Errors: []int{http.StatusNotFound}}, func(ctx context.Context, in *idInput) (*ruleOutput, error) {
		r, err := s.GetRule(ctx, in.ID)
		if err != nil {
			return nil, a.err(ctx, err)
		}
		return &ruleOutput{Body: r}, nil
	})
	huma.Register(hapi, huma.Operation{OperationID: "monitoramento-alertas-alterar", Method: http.MethodPut, Path: "/monitoramento/alertas/{id}",
		Tags: tags, Summary: "Replace an alert rule (its state carries over)", Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity}},
		func(ctx context.Context, in *ruleIDBody) (*ruleOutput, error) {
			r, err := s.UpdateRule(ctx, in.ID, in.Body)
			if err != nil {
				return nil, a.err(ctx, err)
			}
			return &ruleOutput{Body: r}, nil
		})
	huma.Register(hapi, huma.Operation{OperationID: "monitoramento-alertas-remover", Method: http.MethodDelete, Path: "/monitoramento/alertas/{id}",
		Tags: tags, Summary: "Delete an alert rule (a firing episode is closed)", DefaultStatus: http.StatusNoContent, Errors: []int{http.StatusNotFound}},
		func(ctx context.Context, in *idInput) (*struct{}, error) {
			return nil, a.err(ctx, s.DeleteRule(ctx, in.ID))
		})

	huma.Register(hapi, huma.Operation{OperationID: "monitoramento-silencios-criar", Method: http.MethodPost, Path: "/monitoramento/silencios",
		Tags: tags, Summary: "Silence notifications until a time", DefaultStatus: http.StatusCreated, Errors: []int{http.StatusUnprocessableEntity}},
		func(ctx context.Context, in *silenceBody) (*silenceOutput, error) {
			sl, err := s.CreateSilence(ctx, in.Body)
			if err != nil {
				return nil, a.err(ctx, err)
			}
			return &silenceOutput{Body: sl}, nil
		})
	huma.Register(hapi, huma.Operation{OperationID: "monitoramento-silencios-listar", Method: http.MethodGet, Path: "/monitoramento/silencios",
		Tags: tags, Summary: "Active silences"}, func(ctx context.Context, _ *struct{}) (*silencesOutput, error) {
		sl, err := s.ListSilences(ctx)
		if err != nil {
			return nil, a.err(ctx, err)
		}
		out := &silencesOutput{}
		out.Body.Silencios = sl
		return out, nil
	})
	huma.Register(hapi, huma.Operation{OperationID: "monitoramento-silencios-remover", Method: http.MethodDelete, Path: "/monitoramento/silencios/{id}",
		Tags: tags, Summary: "Remove a silence", DefaultStatus: http.StatusNoContent, Errors: []int{http.StatusNotFound}},
		func(ctx context.Context, in *idInput) (*struct{}, error) {
			return nil, a.err(ctx, s.DeleteSilence(ctx, in.ID))
		})

	var ws http.Handler = http.HandlerFunc(s.serveWS)
	for _, g := range wsGuard {
		ws = g(ws)
	}
	mux.Handle("GET /monitoramento/ws", ws)
}
