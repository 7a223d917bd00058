package auth

import (
	"context"
	"database/sql"
	"errors"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/painel-universal/painel/internal/httpapi"
	"github.com/painel-universal/painel/internal/store"
)

// User is a person who logs in. The password hash never leaves the
// package.
type User struct {
	ID           int64     `json:"id" example:"1"`
	Nome         string    `json:"nome" example:"Maria Souza"`
	Email        string    `json:"email" example:"maria@exemplo.com.br" doc:"Lower-cased; unique regardless of case"`
	Papel        Role      `json:"papel" enum:"admin,operador,leitura"`
	Ativo        bool      `json:"ativo"`
	CriadoEm     time.Time `json:"criado_em"`
	AtualizadoEm time.Time `json:"atualizado_em"`

	hash   string // argon2id PHC string
	versao int64  // session version, see the migration
}

// UserInput is the body of POST /usuarios.
type UserInput struct {
	Nome  string `json:"nome" minLength:"1" maxLength:"120" example:"Maria Souza"`
	Email string `json:"email" minLength:"3" maxLength:"254" example:"maria@exemplo.com.br"`
	Papel Role   `json:"papel" enum:"admin,operador,leitura"`
	Senha string `json:"senha" minLength:"8" maxLength:"1024" example:"correta-cavalo-bateria" doc:"At least 8 characters"`
	Ativo *bool  `json:"ativo,omitempty" doc:"Default true"`
}

// UserPatch is the body of PATCH /usuarios/{id}: the fields to change.
type UserPatch struct {
	Nome  *string `json:"nome,omitempty" minLength:"1" maxLength:"120"`
	Email *string `json:"email,omitempty" minLength:"3" maxLength:"254"`
	Papel *Role   `json:"papel,omitempty" enum:"admin,operador,leitura"`
	Senha *string `json:"senha,omitempty" minLength:"8" maxLength:"1024" doc:"Changing it ends the user's sessions"`
	Ativo *bool   `json:"ativo,omitempty" doc:"false ends the user's sessions and blocks logins"`
}

// UserPage is a page of users.
type UserPage struct {
	Usuarios      []User `json:"usuarios"`
	ProximoCursor string `json:"proximo_cursor,omitempty" doc:"Pass as cursor for the next page; absent on the last page"`
}

// FieldError is a validation error naming the body field at fault.
type FieldError = httpapi.FieldError

// Errors of the user operations.
var (
	ErrNotFound   = errors.New("auth: not found")
	ErrEmailTaken = errors.New("auth: email already in use")
	ErrLastAdmin  = errors.New("auth: the last active admin cannot be removed, demoted or deactivated")
)

const userColumns = `id, nome, email, papel, ativo, senha_hash, versao_sessao, criado_em, atualizado_em`

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	var ativo int
	var criado, atualizado int64
	err := row.Scan(&u.ID, &u.Nome, &u.Email, &u.Papel, &ativo, &u.hash, &u.versao, &criado, &atualizado)
	if errors.Is(err, sql.ErrNoRows) {
		return u, ErrNotFound
	}
	u.Ativo = ativo != 0
	u.CriadoEm, u.AtualizadoEm = time.UnixMilli(criado).UTC(), time.UnixMilli(atualizado).UTC()
	return u, err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// normalizeEmail lower-cases and trims an email address.
func normalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// validText reports whether s is valid UTF-8 without control characters.
func validText(s string) bool {
	return utf8.ValidString(s) && strings.IndexFunc(s, unicode.IsControl) < 0
}

// validateName checks a user or key name.
func validateName(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || utf8.RuneCountInString(s) > 120 || !validText(s) {
		return s, &FieldError{Field: field, Reason: "obrigatório, até 120 caracteres, sem caracteres de controle"}
	}
	return s, nil
}

// validateEmail checks and normalises an email address.
func validateEmail(s string) (string, error) {
	s = normalizeEmail(s)
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > 254 || !validText(s) || !strings.Contains(s, "@") {
		return s, &FieldError{Field: "email", Reason: "endereço de e-mail simples (nome@dominio)"}
	}
	return s, nil
}

// validatePassword checks a new password.
func validatePassword(s string) error {
	if utf8.RuneCountInString(s) < 8 || len(s) > maxPasswordBytes || strings.TrimSpace(s) == "" {
		return &FieldError{Field: "senha", Reason: "de 8 caracteres a 1024 bytes"}
	}
	return nil
}

func validateRole(r Role) error {
	if !r.Valid() {
		return &FieldError{Field: "papel", Reason: "um de admin, operador, leitura"}
	}
	return nil
}

// validate checks a new user.
func (in UserInput) validate() (UserInput, error) {
	var err error
	if in.Nome, err = validateName("nome", in.Nome); err != nil {
		return in, err
	}
	if in.Email, err = validateEmail(in.Email); err != nil {
		return in, err
	}
	if err := validateRole(in.Papel); err != nil {
		return in, err
	}
	return in, validatePassword(in.Senha)
}

// lockUsers serialises the transactions that change who is an admin, so
// two of them cannot both see "another admin remains". On SQLite the
// transaction already holds the write lock; on PostgreSQL the upsert locks
// one meta row until commit, and every later statement of the transaction
// (READ COMMITTED) sees what the previous holder committed.
func (s *Service) lockUsers(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value, updated_at) VALUES ('auth.usuarios', '', $1)
		ON CONFLICT (key) DO UPDATE SET updated_at = excluded.updated_at`, s.nowMS())
	return err
}

// keepsAnAdmin returns ErrLastAdmin when no active admin other than id
// exists (so id may not stop being one).
func keepsAnAdmin(ctx context.Context, tx *sql.Tx, id int64) error {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM auth_usuarios WHERE papel = $1 AND ativo = 1 AND id <> $2`,
		RoleAdmin, id).Scan(&n)
	if err == nil && n == 0 {
		err = ErrLastAdmin
	}
	return err
}

// insertUser stores a new user (hash already computed) and returns it.
func (s *Service) insertUser(ctx context.Context, tx *sql.Tx, in UserInput, hash string) (User, error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	ativo := in.Ativo == nil || *in.Ativo
	u := User{Nome: in.Nome, Email: in.Email, Papel: in.Papel, Ativo: ativo, CriadoEm: now, AtualizadoEm: now, hash: hash, versao: 1}
	err := tx.QueryRowContext(ctx, `INSERT INTO auth_usuarios (nome, email, papel, ativo, senha_hash, versao_sessao, criado_em, atualizado_em)
		VALUES ($1, $2, $3, $4, $5, 1, $6, $6) RETURNING id`,
		u.Nome, u.Email, u.Papel, boolInt(ativo), hash, now.UnixMilli()).Scan(&u.ID)
	if store.IsUniqueViolation(err) {
		return u, ErrEmailTaken
	}
	return u, err
}

// CreateUser validates and stores a new user. A duplicate email (in any
// case) is ErrEmailTaken.
func (s *Service) CreateUser(ctx context.Context, in UserInput) (User, error) {
	in, err := in.validate()
	if err != nil {
		return User{}, err
	}
	hash, err := s.hashPassword(ctx, in.Senha)
	if err != nil {
		return User{}, err
	}
	var u User
	err = s.st.Tx(ctx, func(tx *sql.Tx) error {
		u, err = s.insertUser(ctx, tx, in, hash)
		return err
	})
	if err != nil {
		return User{}, err
	}
	s.audit(ctx, "usuarios.criar", userTarget(u), ResultSuccess, "papel "+string(u.Papel))
	return u, nil
}

// EnsureAdmin creates an admin with email and senha when the store has no
// user at all, and reports whether it did. There is no default password:
// the caller (the CLI, or start-up from configuration) provides it.
func (s *Service) EnsureAdmin(ctx context.Context, email, senha string) (bool, error) {
	in, err := UserInput{Nome: "Administrador", Email: email, Papel: RoleAdmin, Senha: senha}.validate()
	if err != nil {
		return false, err
	}
	hash, err := s.hashPassword(ctx, in.Senha)
	if err != nil {
		return false, err
	}
	var u User
	created := false
	err = s.st.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.lockUsers(ctx, tx); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM auth_usuarios`).Scan(&n); err != nil || n > 0 {
			return err
		}
		u, err = s.insertUser(ctx, tx, in, hash)
		created = err == nil
		return err
	})
	if created {
		err := s.Record(ctx, AuditEntry{QuemTipo: "sistema", QuemID: "sistema", QuemNome: "sistema", Acao: "usuarios.criar",
			Alvo: userTarget(u), Resultado: ResultSuccess, Detalhe: "primeiro administrador"})
		if err != nil {
			s.log.ErrorContext(ctx, "auth: audit", "acao", "usuarios.criar", "error", err)
		}
	}
	return created, err
}

// GetUser returns a user.
func (s *Service) GetUser(ctx context.Context, id int64) (User, error) {
	return scanUser(s.st.DB.QueryRowContext(ctx, `SELECT `+userColumns+` FROM auth_usuarios WHERE id = $1`, id))
}

// userByEmail returns the user with a (normalised) email.
func (s *Service) userByEmail(ctx context.Context, email string) (User, error) {
	return scanUser(s.st.DB.QueryRowContext(ctx, `SELECT `+userColumns+` FROM auth_usuarios WHERE email = $1`, email))
}

// cachedUser returns a user from the short-lived cache, or the store.
func (s *Service) cachedUser(ctx context.Context, id int64) (User, error) {
	if u, ok := s.users.get(id, s.now()); ok {
		return u, nil
	}
	gen := s.users.generation()
	u, err := s.GetUser(ctx, id)
	if err == nil {
		s.users.put(id, u, s.now(), gen)
	}
	return u, err
}

// ListUsers returns up to limite users (1..500, default 50) by id, after
// cursor (from the previous page's ProximoCursor).
func (s *Service) ListUsers(ctx context.Context, limite int, cursor string) (UserPage, error) {
	limite = clampLimit(limite)
	after, err := parseIDCursor(cursor)
	if err != nil {
		return UserPage{}, err
	}
	rows, err := s.st.DB.QueryContext(ctx, `SELECT `+userColumns+` FROM auth_usuarios WHERE id > $1 ORDER BY id LIMIT $2`,
		after, limite+1)
	if err != nil {
		return UserPage{}, err
	}
	defer rows.Close()
	p := UserPage{Usuarios: []User{}}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return UserPage{}, err
		}
		p.Usuarios = append(p.Usuarios, u)
	}
	if len(p.Usuarios) > limite {
		p.Usuarios = p.Usuarios[:limite]
		p.ProximoCursor = strconv.FormatInt(p.Usuarios[limite-1].ID, 10)
	}
	return p, rows.Err()
}

// clampLimit bounds a page size to 1..500, 0 meaning 50.
func clampLimit(n int) int {
	switch {
	case n <= 0:
		return 50
	case n > 500:
		return 500
	}
	return n
}

// parseIDCursor parses a numeric cursor; "" is the start.
func parseIDCursor(c string) (int64, error) {
	if c == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(c, 10, 64)
	if err != nil || n < 0 {
		return 0, &FieldError{Field: "cursor", Reason: "cursor inválido; use o proximo_cursor da página anterior"}
	}
	return n, nil
}

// applyPatch returns u with the patch applied and validated, and whether
// the change must end the user's sessions.
func applyPatch(u User, p UserPatch) (User, bool, error) {
	var err error
	if p.Nome != nil {
		if u.Nome, err = validateName("nome", *p.Nome); err != nil {
			return u, false, err
		}
	}
	if p.Email != nil {
		if u.Email, err = validateEmail(*p.Email); err != nil {
			return u, false, err
		}
	}
	sensitive := false
	if p.Papel != nil {
		if err := validateRole(*p.Papel); err != nil {
			return u, false, err
		}
		sensitive = sensitive || *p.Papel != u.Papel
		u.Papel = *p.Papel
	}
	if p.Ativo != nil {
		sensitive = sensitive || *p.Ativo != u.Ativo
		u.Ativo = *p.Ativo
	}
	if p.Senha != nil {
		if err := validatePassword(*p.Senha); err != nil {
			return u, false, err
		}
		sensitive = true
	}
	return u, sensitive, nil
}

// UpdateUser changes the fields set in p. Changing the password, the role
// or the active flag ends the user's sessions (refresh families revoked,
// access tokens rejected). Demoting or deactivating the last active admin
// is ErrLastAdmin.
func (s *Service) UpdateUser(ctx context.Context, id int64, p UserPatch) (User, error) {
	var hash string
	if p.Senha != nil {
		if err := validatePassword(*p.Senha); err != nil {
			return User{}, err
		}
		var err error
		if hash, err = s.hashPassword(ctx, *p.Senha); err != nil {
			return User{}, err
		}
	}
	var u User
	var sensitive bool
	err := s.st.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		u, sensitive, err = s.updateUserTx(ctx, tx, id, p, hash)
		return err
	})
	s.users.drop(id)
	if errors.Is(err, ErrLastAdmin) {
		s.audit(ctx, "usuarios.alterar", "usuario:"+strconv.FormatInt(id, 10), ResultDenied, "último administrador ativo")
	}
	if err != nil {
		return User{}, err
	}
	detail := ""
	if sensitive {
		detail = "sessões encerradas"
	}
	s.audit(ctx, "usuarios.alterar", userTarget(u), ResultSuccess, detail)
	return u, nil
}

// updateUserTx is UpdateUser's transaction.
func (s *Service) updateUserTx(ctx context.Context, tx *sql.Tx, id int64, p UserPatch, hash string) (User, bool, error) {
	if err := s.lockUsers(ctx, tx); err != nil {
		return User{}, false, err
	}
	old, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM auth_usuarios WHERE id = $1`, id))
	if err != nil {
		return old, false, err
	}
	u, sensitive, err := applyPatch(old, p)
	if err != nil {
		return u, false, err
	}
	if old.Papel == RoleAdmin && old.Ativo && (u.Papel != RoleAdmin || !u.Ativo) {
		if err := keepsAnAdmin(ctx, tx, id); err != nil {
			return u, false, err
		}
	}
	if hash != "" {
		u.hash = hash
	}
	if sensitive {
		u.versao++
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	u.AtualizadoEm = now
	_, err = tx.ExecContext(ctx, `UPDATE auth_usuarios SET nome = $1, email = $2, papel = $3, ativo = $4, senha_hash = $5,
		versao_sessao = $6, atualizado_em = $7 WHERE id = $8`,
		u.Nome, u.Email, u.Papel, boolInt(u.Ativo), u.hash, u.versao, now.UnixMilli(), id)
	if store.IsUniqueViolation(err) {
		return u, false, ErrEmailTaken
	}
	if err == nil && sensitive {
		err = s.revokeUserFamilies(ctx, tx, id, "usuário alterado")
	}
	return u, sensitive, err
}

// DeleteUser removes a user and their sessions. Removing the last active
// admin is ErrLastAdmin.
func (s *Service) DeleteUser(ctx context.Context, id int64) error {
	var u User
	err := s.st.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.lockUsers(ctx, tx); err != nil {
			return err
		}
		var err error
		if u, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM auth_usuarios WHERE id = $1`, id)); err != nil {
			return err
		}
		if u.Papel == RoleAdmin && u.Ativo {
			if err := keepsAnAdmin(ctx, tx, id); err != nil {
				return err
			}
		}
		for _, q := range []string{
			`DELETE FROM auth_refresh_tokens WHERE usuario_id = $1`,
			`DELETE FROM auth_refresh_familias WHERE usuario_id = $1`,
			`DELETE FROM auth_usuarios WHERE id = $1`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		return nil
	})
	s.users.drop(id)
	switch {
	case errors.Is(err, ErrLastAdmin):
		s.audit(ctx, "usuarios.remover", userTarget(u), ResultDenied, "último administrador ativo")
	case err == nil:
		s.audit(ctx, "usuarios.remover", userTarget(u), ResultSuccess, "")
	}
	return err
}

// userTarget names a user in the audit log.
func userTarget(u User) string { return "usuario:" + strconv.FormatInt(u.ID, 10) + " " + u.Email }

// CountUsers returns how many users exist (active or not).
func (s *Service) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.st.DB.QueryRowContext(ctx, `SELECT count(*) FROM auth_usuarios`).Scan(&n)
	return n, err
}
