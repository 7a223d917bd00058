package monitor

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Event is one firing episode of a rule.
type Event struct {
	ID             int64      `json:"id"`
	RegraID        int64      `json:"regra_id"`
	RegraNome      string     `json:"regra_nome"`
	Metrica        string     `json:"metrica"`
	Severidade     string     `json:"severidade"`
	Estado         string     `json:"estado" enum:"disparado,resolvido"`
	Valor          float64    `json:"valor" doc:"The value that fired it (or, once resolved, that resolved it)"`
	Limite         float64    `json:"limite"`
	Mensagem       string     `json:"mensagem"`
	DisparadoEm    time.Time  `json:"disparado_em"`
	ResolvidoEm    *time.Time `json:"resolvido_em"`
	ReconhecidoEm  *time.Time `json:"reconhecido_em"`
	ReconhecidoPor string     `json:"reconhecido_por"`
}

const eventColumns = `id, regra_id, regra_nome, metrica, severidade, estado, valor, limite, mensagem,
	disparado_em, resolvido_em, reconhecido_em, reconhecido_por`

func scanEvent(row interface{ Scan(...any) error }) (Event, error) {
	var e Event
	var fired int64
	var resolved, acked sql.NullInt64
	err := row.Scan(&e.ID, &e.RegraID, &e.RegraNome, &e.Metrica, &e.Severidade, &e.Estado, &e.Valor, &e.Limite,
		&e.Mensagem, &fired, &resolved, &acked, &e.ReconhecidoPor)
	e.DisparadoEm = time.UnixMilli(fired).UTC()
	if resolved.Valid {
		t := time.UnixMilli(resolved.Int64).UTC()
		e.ResolvidoEm = &t
	}
	if acked.Valid {
		t := time.UnixMilli(acked.Int64).UTC()
		e.ReconhecidoEm = &t
	}
	return e, err
}

// recordFired stores the event of a new firing episode.
func (s *Service) recordFired(ctx context.Context, tr Transition) (Event, error) {
	r := tr.Rule
	e := Event{RegraID: r.ID, RegraNome: r.Nome, Metrica: r.Metrica, Severidade: r.Severidade, Estado: StateFiring,
		Valor: tr.Value, Limite: r.Limite, Mensagem: r.message(tr.Value), DisparadoEm: tr.At.UTC().Truncate(time.Millisecond)}
	err := s.st.DB.QueryRowContext(ctx, `INSERT INTO monitor_eventos (regra_id, regra_nome, metrica, severidade, estado,
		valor, limite, mensagem, disparado_em) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) RETURNING id`,
		e.RegraID, e.RegraNome, e.Metrica, e.Severidade, e.Estado, e.Valor, e.Limite, e.Mensagem,
		e.DisparadoEm.UnixMilli()).Scan(&e.ID)
	return e, err
}

// recordResolved closes an episode.
func (s *Service) recordResolved(ctx context.Context, tr Transition) (Event, error) {
	if tr.EventID == 0 {
		return Event{}, ErrNotFound
	}
	_, err := s.st.DB.ExecContext(ctx, `UPDATE monitor_eventos SET estado = $1, resolvido_em = $2, valor = $3
		WHERE id = $4`, StateResolved, tr.At.UnixMilli(), tr.Value, tr.EventID)
	if err != nil {
		return Event{}, err
	}
	return s.GetEvent(ctx, tr.EventID)
}

// GetEvent returns an event.
func (s *Service) GetEvent(ctx context.Context, id int64) (Event, error) {
	e, err := scanEvent(s.st.DB.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM monitor_eventos WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return e, ErrNotFound
	}
	return e, err
}

// EventPage is a page of events, newest first.
type EventPage struct {
	Eventos   []Event `json:"eventos"`
	Pagina    int     `json:"pagina"`
	PorPagina int     `json:"por_pagina"`
	Total     int     `json:"total"`
}

// ListEvents returns a page of events, newest first; estado filters ("" for all), regra too (0
// for all).
func (s *Service) ListEvents(ctx context.Context, page, perPage int, estado string, regra int64) (EventPage, error) {
	where, args := []string{"1=1"}, []any{}
	if estado != "" {
		args = append(args, estado)
		where = append(where, "estado = $1")
	}
	if regra != 0 {
		args = append(args, regra)
		where = append(where, fmt.Sprintf("regra_id = $%d", len(args)))
	}
	cond := strings.Join(where, " AND ")
	out := EventPage{Eventos: []Event{}, Pagina: page, PorPagina: perPage}
	if err := s.st.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM monitor_eventos WHERE `+cond, args...).Scan(&out.Total); err != nil {
		return out, err
	}
	n := len(args)
	args = append(args, perPage, (page-1)*perPage)
	rows, err := s.st.DB.QueryContext(ctx, `SELECT `+eventColumns+` FROM monitor_eventos WHERE `+cond+
		fmt.Sprintf(" ORDER BY disparado_em DESC, id DESC LIMIT $%d OFFSET $%d", n+1, n+2), args...)
	if err != nil {
		return out, err
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return out, err
		}
		out.Eventos = append(out.Eventos, e)
	}
	return out, rows.Err()
}

// ActiveEvents returns the open episodes, newest first.
func (s *Service) ActiveEvents(ctx context.Context) ([]Event, error) {
	p, err := s.ListEvents(ctx, 1, 1000, StateFiring, 0)
	return p.Eventos, err
}

// Acknowledge marks an event as seen by por (idempotent: the first acknowledgement stays).
func (s *Service) Acknowledge(ctx context.Context, id int64, por string) (Event, error) {
	_, err := s.st.DB.ExecContext(ctx, `UPDATE monitor_eventos SET reconhecido_em = $1, reconhecido_por = $2
		WHERE id = $3 AND reconhecido_em IS NULL`, s.now().UnixMilli(), por, id)
	if err != nil {
		return Event{}, err
	}
	return s.GetEvent(ctx, id)
}

// Silence suppresses notifications of a rule, or of every rule on a metric, or of everything,
// until it expires. Events are still recorded.
type Silence struct {
	ID       int64     `json:"id"`
	RegraID  *int64    `json:"regra_id"`
	Metrica  string    `json:"metrica"`
	Ate      time.Time `json:"ate"`
	Motivo   string    `json:"motivo"`
	CriadoEm time.Time `json:"criado_em"`
}

// SilenceInput is the body of POST /monitoramento/silencios.
type SilenceInput struct {
	RegraID         *int64     `json:"regra_id,omitempty" doc:"Silence this rule (or use metrica; neither silences everything)"`
	Metrica         string     `json:"metrica,omitempty" maxLength:"200"`
	Ate             *time.Time `json:"ate,omitempty" doc:"Until when (RFC 3339); or give duracao_segundos"`
	DuracaoSegundos int64      `json:"duracao_segundos,omitempty" minimum:"0" maximum:"31536000"`
	Motivo          string     `json:"motivo" minLength:"1" maxLength:"500"`
}

// CreateSilence stores a silence.
func (s *Service) CreateSilence(ctx context.Context, in SilenceInput) (Silence, error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	sl := Silence{RegraID: in.RegraID, Metrica: strings.TrimSpace(in.Metrica), Motivo: strings.TrimSpace(in.Motivo), CriadoEm: now}
	switch {
	case in.Ate != nil && in.DuracaoSegundos != 0:
		return sl, &FieldError{Field: "ate", Reason: "use ate ou duracao_segundos, não os dois"}
	case in.Ate != nil:
		sl.Ate = in.Ate.UTC().Truncate(time.Millisecond)
	case in.DuracaoSegundos > 0:
		sl.Ate = now.Add(time.Duration(in.DuracaoSegundos) * time.Second)
	default:
		return sl, &FieldError{Field: "ate", Reason: "obrigatório (ou duracao_segundos)"}
	}
	if !sl.Ate.After(now) {
		return sl, &FieldError{Field: "ate", Reason: "deve estar no futuro"}
	}
	if sl.Motivo == "" || strings.ContainsRune(sl.Motivo, 0) {
		return sl, &FieldError{Field: "motivo", Reason: "obrigatório"}
	}
	if sl.Metrica != "" && !validMetricName(sl.Metrica) {
		return sl, &FieldError{Field: "metrica", Reason: "nome de métrica inválido"}
	}
	if sl.RegraID != nil {
		if _, err := s.GetRule(ctx, *sl.RegraID); errors.Is(err, ErrNotFound) {
			return sl, &FieldError{Field: "regra_id", Reason: "regra não existe"}
		} else if err != nil {
			return sl, err
		}
	}
	var regra sql.NullInt64
	if sl.RegraID != nil {
		regra = sql.NullInt64{Int64: *sl.RegraID, Valid: true}
	}
	err := s.st.DB.QueryRowContext(ctx, `INSERT INTO monitor_silencios (regra_id, metrica, ate, motivo, criado_em)
		VALUES ($1,$2,$3,$4,$5) RETURNING id`, regra, sl.Metrica, sl.Ate.UnixMilli(), sl.Motivo, now.UnixMilli()).Scan(&sl.ID)
	if err == nil {
		s.silMu.Lock()
		s.silences = append(s.silences, sl)
		s.silMu.Unlock()
	}
	return sl, err
}

// ListSilences returns the silences that have not expired.
func (s *Service) ListSilences(ctx context.Context) ([]Silence, error) {
	rows, err := s.st.DB.QueryContext(ctx, `SELECT id, regra_id, metrica, ate, motivo, criado_em FROM monitor_silencios
		WHERE ate > $1 ORDER BY id`, s.now().UnixMilli())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Silence{}
	for rows.Next() {
		var sl Silence
		var regra sql.NullInt64
		var ate, criado int64
		if err := rows.Scan(&sl.ID, &regra, &sl.Metrica, &ate, &sl.Motivo, &criado); err != nil {
			return nil, err
		}
		if regra.Valid {
			sl.RegraID = &regra.Int64
		}
		sl.Ate, sl.CriadoEm = time.UnixMilli(ate).UTC(), time.UnixMilli(criado).UTC()
		out = append(out, sl)
	}
	return out, rows.Err()
}

// DeleteSilence removes a silence.
func (s *Service) DeleteSilence(ctx context.Context, id int64) error {
	res, err := s.st.DB.ExecContext(ctx, `DELETE FROM monitor_silencios WHERE id = $1`, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	s.silMu.Lock()
	for i, sl := range s.silences {
		if sl.ID == id {
			s.silences = append(s.silences[:i], s.silences[i+1:]...)
			break
		}
	}
	s.silMu.Unlock()
	return nil
}

// silenced reports whether a rule's notifications are silenced at now.
func (s *Service) silenced(r Rule, now time.Time) bool {
	s.silMu.Lock()
	defer s.silMu.Unlock()
	keep := s.silences[:0]
	hit := false
	for _, sl := range s.silences {
		if !sl.Ate.After(now) {
			continue // expired
		}
		keep = append(keep, sl)
		if (sl.RegraID == nil || *sl.RegraID == r.ID) && (sl.Metrica == "" || sl.Metrica == r.Metrica) {
			hit = true
		}
	}
	s.silences = keep
	return hit
}
