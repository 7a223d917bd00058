package monitor

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/mail"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/painel-universal/painel/internal/httpapi"
)

// RuleInput is the body of POST and PUT /monitoramento/alertas.
type RuleInput struct {
	Nome                 string   `json:"nome" minLength:"1" maxLength:"120"`
	Metrica              string   `json:"metrica" minLength:"1" maxLength:"200" doc:"A metric name from GET /monitoramento/metricas/nomes"`
	Operador             string   `json:"operador" enum:">,>=,<,<="`
	Limite               float64  `json:"limite"`
	LimiteRetorno        *float64 `json:"limite_retorno,omitempty" doc:"Where a firing alert clears; default limite. Must not be past limite in the firing direction"`
	DuracaoSegundos      int64    `json:"duracao_segundos,omitempty" minimum:"0" maximum:"86400"`
	Severidade           string   `json:"severidade" enum:"info,aviso,critico"`
	RepetirACadaSegundos int64    `json:"repetir_a_cada_segundos,omitempty" minimum:"0" maximum:"604800"`
	Canais               []Canal  `json:"canais,omitempty" maxItems:"10" doc:"Default: websocket only"`
	Ativo                *bool    `json:"ativo,omitempty" doc:"Default true"`
}

// FieldError is a validation error naming the body field at fault.
type FieldError = httpapi.FieldError

// Errors.
var (
	ErrNotFound = errors.New("monitor: not found")
)

// validate checks a rule input and returns the rule it describes.
func (in *RuleInput) validate() (Rule, error) {
	r := Rule{
		Nome: strings.TrimSpace(in.Nome), Metrica: strings.TrimSpace(in.Metrica), Operador: in.Operador,
		Limite: in.Limite, LimiteRetorno: in.Limite, DuracaoSegundos: in.DuracaoSegundos,
		Severidade: in.Severidade, RepetirACadaSegundos: in.RepetirACadaSegundos, Canais: in.Canais, Ativo: true,
	}
	if in.Ativo != nil {
		r.Ativo = *in.Ativo
	}
	if in.LimiteRetorno != nil {
		r.LimiteRetorno = *in.LimiteRetorno
	}
	if len(r.Canais) == 0 {
		r.Canais = []Canal{{Tipo: ChannelWebSocket}}
	}
	switch {
	case r.Nome == "" || !utf8.ValidString(r.Nome) || strings.ContainsRune(r.Nome, 0):
		return r, &FieldError{Field: "nome", Reason: "obrigatório, texto UTF-8"}
	case r.Metrica == "" || !validMetricName(r.Metrica):
		return r, &FieldError{Field: "metrica", Reason: "nome de métrica inválido (veja GET /monitoramento/metricas/nomes)"}
	case r.Operador != ">" && r.Operador != ">=" && r.Operador != "<" && r.Operador != "<=":
		return r, &FieldError{Field: "operador", Reason: "um de >, >=, <, <="}
	case math.IsNaN(r.Limite) || math.IsInf(r.Limite, 0):
		return r, &FieldError{Field: "limite", Reason: "número finito"}
	case math.IsNaN(r.LimiteRetorno) || math.IsInf(r.LimiteRetorno, 0):
		return r, &FieldError{Field: "limite_retorno", Reason: "número finito"}
	case (r.Operador == ">" || r.Operador == ">=") && r.LimiteRetorno > r.Limite:
		return r, &FieldError{Field: "limite_retorno", Reason: "para > e >= deve ser menor ou igual a limite"}
	case (r.Operador == "<" || r.Operador == "<=") && r.LimiteRetorno < r.Limite:
		return r, &FieldError{Field: "limite_retorno", Reason: "para < e <= deve ser maior ou igual a limite"}
	case r.DuracaoSegundos < 0 || r.DuracaoSegundos > 86400:
		return r, &FieldError{Field: "duracao_segundos", Reason: "entre 0 e 86400"}
	case r.Severidade != "info" && r.Severidade != "aviso" && r.Severidade != "critico":
		return r, &FieldError{Field: "severidade", Reason: "um de info, aviso, critico"}
	case r.RepetirACadaSegundos < 0 || r.RepetirACadaSegundos > 604800:
		return r, &FieldError{Field: "repetir_a_cada_segundos", Reason: "entre 0 e 604800"}
	case len(r.Canais) > 10:
		return r, &FieldError{Field: "canais", Reason: "no máximo 10"}
	}
	for i, c := range r.Canais {
		field := fmt.Sprintf("canais[%d]", i)
		switch c.Tipo {
		case ChannelWebSocket:
			if c.URL != "" || c.Para != "" {
				return r, &FieldError{Field: field, Reason: "websocket não leva url nem para"}
			}
		case ChannelWebhook:
			u, err := url.Parse(c.URL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(c.URL) > 2048 {
				return r, &FieldError{Field: field + ".url", Reason: "URL http(s) absoluta"}
			}
		case ChannelEmail:
			a, err := mail.ParseAddress(c.Para)
			if err != nil || a.Address != c.Para || len(c.Para) > 320 {
				return r, &FieldError{Field: field + ".para", Reason: "endereço de e-mail simples (nome@dominio)"}
			}
		default:
			return r, &FieldError{Field: field + ".tipo", Reason: "um de websocket, webhook, email"}
		}
	}
	return r, nil
}

// validMetricName accepts dotted names of printable ASCII without spaces (mount points contain
// slashes; interface names dashes and other punctuation).
func validMetricName(s string) bool {
	if len(s) > 200 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// defaultRules are the prototype's rules, created on first start.
func defaultRules() []RuleInput {
	ret := func(v float64) *float64 { return &v }
	return []RuleInput{
		{Nome: "CPU alta", Metrica: "cpu.total", Operador: ">", Limite: 80, LimiteRetorno: ret(75), DuracaoSegundos: 60, Severidade: "aviso"},
		{Nome: "Memória alta", Metrica: "mem.used_pct", Operador: ">", Limite: 85, LimiteRetorno: ret(80), DuracaoSegundos: 60, Severidade: "aviso"},
		{Nome: "Disco quase cheio", Metrica: "disk./.used_pct", Operador: ">", Limite: 90, LimiteRetorno: ret(88), DuracaoSegundos: 60, Severidade: "critico"},
	}
}

const ruleColumns = `id, nome, metrica, operador, limite, limite_retorno, duracao_segundos, severidade,
	repetir_a_cada_segundos, canais, ativo, criado_em, atualizado_em`

func scanRule(row interface{ Scan(...any) error }) (Rule, error) {
	var r Rule
	var canais string
	var ativo int
	var criado, atualizado int64
	err := row.Scan(&r.ID, &r.Nome, &r.Metrica, &r.Operador, &r.Limite, &r.LimiteRetorno, &r.DuracaoSegundos,
		&r.Severidade, &r.RepetirACadaSegundos, &canais, &ativo, &criado, &atualizado)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal([]byte(canais), &r.Canais); err != nil {
		return r, fmt.Errorf("rule %d: channels: %w", r.ID, err)
	}
	r.Ativo = ativo != 0
	r.CriadoEm, r.AtualizadoEm = time.UnixMilli(criado).UTC(), time.UnixMilli(atualizado).UTC()
	return r, nil
}

func (s *Service) insertRule(ctx context.Context, r Rule) (Rule, error) {
	canais, _ := json.Marshal(r.Canais)
	now := s.now().UTC().Truncate(time.Millisecond)
	r.CriadoEm, r.AtualizadoEm = now, now
	err := s.st.DB.QueryRowContext(ctx, `INSERT INTO monitor_regras (nome, metrica, operador, limite, limite_retorno,
		duracao_segundos, severidade, repetir_a_cada_segundos, canais, ativo, criado_em, atualizado_em)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$11) RETURNING id`,
		r.Nome, r.Metrica, r.Operador, r.Limite, r.LimiteRetorno, r.DuracaoSegundos, r.Severidade,
		r.RepetirACadaSegundos, string(canais), boolInt(r.Ativo), now.UnixMilli()).Scan(&r.ID)
	return r, err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// CreateRule validates and stores a rule, and starts evaluating it.
func (s *Service) CreateRule(ctx context.Context, in RuleInput) (Rule, error) {
	r, err := in.validate()
	if err != nil {
		return r, err
	}
	if r, err = s.insertRule(ctx, r); err != nil {
		return r, err
	}
	s.eng.set(r)
	r.Estado = s.eng.state(r.ID)
	return r, nil
}

// UpdateRule replaces a rule; its state and open episode carry over.
func (s *Service) UpdateRule(ctx context.Context, id int64, in RuleInput) (Rule, error) {
	r, err := in.validate()
	if err != nil {
		return r, err
	}
	canais, _ := json.Marshal(r.Canais)
	now := s.now().UTC().Truncate(time.Millisecond)
	res, err := s.st.DB.ExecContext(ctx, `UPDATE monitor_regras SET nome=$1, metrica=$2, operador=$3, limite=$4,
		limite_retorno=$5, duracao_segundos=$6, severidade=$7, repetir_a_cada_segundos=$8, canais=$9, ativo=$10,
		atualizado_em=$11 WHERE id=$12`,
		r.Nome, r.Metrica, r.Operador, r.Limite, r.LimiteRetorno, r.DuracaoSegundos, r.Severidade,
		r.RepetirACadaSegundos, string(canais), boolInt(r.Ativo), now.UnixMilli(), id)
	if err != nil {
		return r, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return r, ErrNotFound
	}
	r, err = s.GetRule(ctx, id)
	if err != nil {
		return r, err
	}
	s.eng.set(r)
	r.Estado = s.eng.state(id)
	return r, nil
}

// GetRule returns a rule with its current state.
func (s *Service) GetRule(ctx context.Context, id int64) (Rule, error) {
	r, err := scanRule(s.st.DB.QueryRowContext(ctx, `SELECT `+ruleColumns+` FROM monitor_regras WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, ErrNotFound
	}
	r.Estado = s.eng.state(id)
	return r, err
}

// ListRules returns every rule, by id.
func (s *Service) ListRules(ctx context.Context) ([]Rule, error) {
	rows, err := s.st.DB.QueryContext(ctx, `SELECT `+ruleColumns+` FROM monitor_regras ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Rule{}
	for rows.Next() {
		r, err := scanRule(rows)
		if err != nil {
			return nil, err
		}
		r.Estado = s.eng.state(r.ID)
		out = append(out, r)
	}
	return out, rows.Err()
}

// DeleteRule removes a rule; a firing episode is closed as resolved.
func (s *Service) DeleteRule(ctx context.Context, id int64) error {
	res, err := s.st.DB.ExecContext(ctx, `DELETE FROM monitor_regras WHERE id = $1`, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	if ev := s.eng.remove(id); ev != 0 {
		if _, err = s.st.DB.ExecContext(ctx, `UPDATE monitor_eventos SET estado = $1, resolvido_em = $2,
			mensagem = mensagem || ' (regra removida)' WHERE id = $3`, StateResolved, s.now().UnixMilli(), ev); err != nil {
			return err
		}
		// Tell the live clients that the episode is over.
		if e, err := s.GetEvent(ctx, ev); err == nil {
			s.hub.broadcastEvent(e, false)
		}
	}
	return nil
}

// Reload reads the rules, open episodes and silences from the store again, replacing what the
// service holds (after the database was restored under it).
func (s *Service) Reload(ctx context.Context) error {
	s.eng.reset()
	if err := s.loadRules(ctx); err != nil {
		return err
	}
	sl, err := s.ListSilences(ctx)
	if err != nil {
		return err
	}
	s.silMu.Lock()
	s.silences = sl
	s.silMu.Unlock()
	return nil
}

// loadRules installs the stored rules in the engine, creating the defaults on first start, and
// restores the open episodes.
func (s *Service) loadRules(ctx context.Context) error {
	// The meta row is claimed in the same transaction as the defaults are inserted, so two
	// instances starting together create them once.
	err := s.st.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value, updated_at) VALUES ($1, '1', $2)
			ON CONFLICT (key) DO NOTHING`, "monitor.regras_padrao", s.now().UnixMilli())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // created before
		}
		for _, in := range defaultRules() {
			r, err := in.validate()
			if err != nil {
				return err
			}
			canais, _ := json.Marshal(r.Canais)
			now := s.now().UnixMilli()
			if _, err := tx.ExecContext(ctx, `INSERT INTO monitor_regras (nome, metrica, operador, limite, limite_retorno,
				duracao_segundos, severidade, repetir_a_cada_segundos, canais, ativo, criado_em, atualizado_em)
				VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$11)`,
				r.Nome, r.Metrica, r.Operador, r.Limite, r.LimiteRetorno, r.DuracaoSegundos, r.Severidade,
				r.RepetirACadaSegundos, string(canais), boolInt(r.Ativo), now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	rules, err := s.ListRules(ctx)
	if err != nil {
		return err
	}
	for _, r := range rules {
		s.eng.set(r)
	}
	rows, err := s.st.DB.QueryContext(ctx, `SELECT id, regra_id, disparado_em FROM monitor_eventos WHERE estado = $1`, StateFiring)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, rule, at int64
		if err := rows.Scan(&id, &rule, &at); err != nil {
			return err
		}
		s.eng.restore(rule, id, time.UnixMilli(at))
	}
	return rows.Err()
}
