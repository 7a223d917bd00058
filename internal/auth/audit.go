package auth

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Results of audited actions; an HTTP status code (as text) also fits.
const (
	ResultSuccess = "sucesso"
	ResultDenied  = "negado"
	ResultFailure = "falha"
)

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	ID        int64     `json:"id" example:"42"`
	Quando    time.Time `json:"quando"`
	QuemTipo  string    `json:"quem_tipo" example:"usuario" doc:"usuario, chave, or sistema / anonimo"`
	QuemID    string    `json:"quem_id" example:"1"`
	QuemNome  string    `json:"quem_nome" example:"Maria Souza"`
	Acao      string    `json:"acao" example:"backup.executar" doc:"module.verb"`
	Alvo      string    `json:"alvo" example:"usuario:7 joao@exemplo.com.br"`
	IP        string    `json:"ip" example:"203.0.113.7"`
	Resultado string    `json:"resultado" example:"sucesso" doc:"sucesso, negado, falha, or an HTTP status"`
	Detalhe   string    `json:"detalhe" example:"papel operador"`
}

// AuditFilter selects audit entries; zero fields do not filter.
type AuditFilter struct {
	AcaoPrefixo string    // acao starts with this
	Quem        string    // quem_id or quem_nome equals this
	Desde, Ate  time.Time // quando in [Desde, Ate)
	Limite      int       // 1..500, default 50
	Cursor      string    // ProximoCursor of the previous page
}

// AuditPage is a page of the audit log, newest first.
type AuditPage struct {
	Entradas      []AuditEntry `json:"entradas"`
	ProximoCursor string       `json:"proximo_cursor,omitempty" doc:"Pass as cursor for the next (older) page; absent on the last page"`
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// clean makes a string storable on both engines (valid UTF-8, no NUL) and
// at most n bytes.
func clean(s string, n int) string {
	return truncate(strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", ""), n)
}

// Record appends e to the audit log. Quando defaults to now; the actor
// (Quem*) to the principal in ctx ("anonimo" when none); IP to the client
// IP in ctx. Long fields are cut.
func (s *Service) Record(ctx context.Context, e AuditEntry) error {
	if e.Quando.IsZero() {
		e.Quando = s.now()
	}
	if e.QuemTipo == "" && e.QuemID == "" {
		if p := PrincipalFrom(ctx); p != nil {
			e.QuemTipo, e.QuemID, e.QuemNome = p.Tipo, p.ID, p.Nome
		} else {
			e.QuemTipo = "anonimo"
		}
	}
	if e.IP == "" {
		e.IP = ClientIPFrom(ctx)
	}
	_, err := s.st.DB.ExecContext(ctx, `INSERT INTO auditoria (quando, quem_tipo, quem_id, quem_nome, acao, alvo, ip, resultado, detalhe)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		e.Quando.UnixMilli(), clean(e.QuemTipo, 20), clean(e.QuemID, 100), clean(e.QuemNome, 200), clean(e.Acao, 100),
		clean(e.Alvo, 300), clean(e.IP, 100), clean(e.Resultado, 20), clean(e.Detalhe, 500))
	return err
}

// audit records an action of this package; a failure is logged, not
// returned (the action itself happened).
func (s *Service) audit(ctx context.Context, acao, alvo, resultado, detalhe string) {
	err := s.Record(ctx, AuditEntry{Acao: acao, Alvo: alvo, Resultado: resultado, Detalhe: detalhe})
	if err != nil && ctx.Err() == nil {
		s.log.ErrorContext(ctx, "auth: audit", "acao", acao, "error", err)
	}
}

// ListAudit returns audit entries matching f, newest first.
func (s *Service) ListAudit(ctx context.Context, f AuditFilter) (AuditPage, error) {
	limite := clampLimit(f.Limite)
	before, err := parseIDCursor(f.Cursor)
	if err != nil {
		return AuditPage{}, err
	}
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if before > 0 {
		where = append(where, "id < "+arg(before))
	}
	if f.AcaoPrefixo != "" {
		// substr, not LIKE: LIKE's case rules and wildcards differ between the engines.
		where = append(where, "substr(acao, 1, "+arg(utf8.RuneCountInString(f.AcaoPrefixo))+") = "+arg(f.AcaoPrefixo))
	}
	if f.Quem != "" {
		p := arg(f.Quem)
		where = append(where, "(quem_id = "+p+" OR quem_nome = "+p+")")
	}
	if !f.Desde.IsZero() {
		where = append(where, "quando >= "+arg(f.Desde.UnixMilli()))
	}
	if !f.Ate.IsZero() {
		where = append(where, "quando < "+arg(f.Ate.UnixMilli()))
	}
	q := `SELECT id, quando, quem_tipo, quem_id, quem_nome, acao, alvo, ip, resultado, detalhe FROM auditoria`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT " + arg(limite+1)
	return s.queryAudit(ctx, q, args, limite)
}

// queryAudit runs a ListAudit query and pages its rows.
func (s *Service) queryAudit(ctx context.Context, q string, args []any, limite int) (AuditPage, error) {
	rows, err := s.st.DB.QueryContext(ctx, q, args...)
	if err != nil {
		return AuditPage{}, err
	}
	defer rows.Close()
	p := AuditPage{Entradas: []AuditEntry{}}
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.QuemTipo, &e.QuemID, &e.QuemNome, &e.Acao, &e.Alvo, &e.IP, &e.Resultado, &e.Detalhe); err != nil {
			return AuditPage{}, err
		}
		e.Quando = time.UnixMilli(at).UTC()
		p.Entradas = append(p.Entradas, e)
	}
	if len(p.Entradas) > limite {
		p.Entradas = p.Entradas[:limite]
		p.ProximoCursor = strconv.FormatInt(p.Entradas[limite-1].ID, 10)
	}
	return p, rows.Err()
}

// PruneAudit deletes the audit entries older than before and returns how
// many went.
func (s *Service) PruneAudit(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.st.DB.ExecContext(ctx, `DELETE FROM auditoria WHERE quando < $1`, before.UnixMilli())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
