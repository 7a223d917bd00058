package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// APIKeyPrefix starts every API key: "pnk_<16 hex id>_<43 base64url secret>".
const APIKeyPrefix = "pnk_"

const (
	keyIDBytes     = 8
	keySecretBytes = 32
	apiKeyLen      = len(APIKeyPrefix) + 2*keyIDBytes + 1 + 43
)

// keyTouchInterval throttles the ultimo_uso_em writes: at most one per key
// per interval, so a busy scanner does not write on every request.
const keyTouchInterval = time.Minute

// APIKey is a device credential, without its secret.
type APIKey struct {
	ID          string       `json:"id" example:"3f9a1c0de2b47a65"`
	Nome        string       `json:"nome" example:"Leitor portão 2"`
	Escopos     []Permission `json:"escopos" example:"[\"qr:validar\"]"`
	CriadaEm    time.Time    `json:"criada_em"`
	CriadaPor   string       `json:"criada_por" example:"usuario:1" doc:"The principal that created it"`
	UltimoUsoEm *time.Time   `json:"ultimo_uso_em,omitempty" doc:"Updated at most once a minute"`
	RevogadaEm  *time.Time   `json:"revogada_em,omitempty"`
}

// APIKeyInput is the body of POST /auth/chaves.
type APIKeyInput struct {
	Nome    string       `json:"nome" minLength:"1" maxLength:"120" example:"Leitor portão 2"`
	Escopos []Permission `json:"escopos" minItems:"1" maxItems:"32" example:"[\"qr:validar\",\"qr:ler\"]" doc:"Permissions the key grants (auth:proprio is implied)"`
}

// APIKeyPage is a page of API keys.
type APIKeyPage struct {
	Chaves        []APIKey `json:"chaves"`
	ProximoCursor string   `json:"proximo_cursor,omitempty" doc:"Pass as cursor for the next page; absent on the last page"`
}

// ErrScopeNotHeld is a key creation asking for a scope its creator lacks.
var ErrScopeNotHeld = errors.New("auth: cannot grant a permission the creator does not have")

// apiKeyRow is a stored key, cached for authentication.
type apiKeyRow struct {
	APIKey
	hash string
}

// validateScopes checks, deduplicates and orders scopes.
func validateScopes(in []Permission) ([]Permission, error) {
	if len(in) == 0 {
		return nil, &FieldError{Field: "escopos", Reason: "ao menos um escopo"}
	}
	var out []Permission
	for _, p := range AllPermissions() {
		if slices.Contains(in, p) {
			out = append(out, p)
		}
	}
	for _, p := range in {
		if !p.Valid() {
			return nil, &FieldError{Field: "escopos", Reason: fmt.Sprintf("escopo desconhecido %q; válidos: %s", p, permissionList())}
		}
	}
	return out, nil
}

// permissionList joins the permission names for error messages.
func permissionList() string {
	var names []string
	for _, p := range AllPermissions() {
		names = append(names, string(p))
	}
	return strings.Join(names, ", ")
}

// CreateAPIKey stores a new key and returns it with the full key string,
// which is shown this one time only. The principal in ctx (when any) is
// recorded as creator and may not grant a scope it does not have.
func (s *Service) CreateAPIKey(ctx context.Context, in APIKeyInput) (APIKey, string, error) {
	nome, err := validateName("nome", in.Nome)
	if err != nil {
		return APIKey{}, "", err
	}
	scopes, err := validateScopes(in.Escopos)
	if err != nil {
		return APIKey{}, "", err
	}
	by := PrincipalFrom(ctx)
	for _, p := range scopes {
		if by != nil && !by.Can(p) {
			return APIKey{}, "", fmt.Errorf("%w: %s", ErrScopeNotHeld, p)
		}
	}
	idb := make([]byte, keyIDBytes)
	_, _ = rand.Read(idb)
	k := APIKey{ID: hex.EncodeToString(idb), Nome: nome, Escopos: scopes, CriadaPor: principalName(by),
		CriadaEm: s.now().UTC().Truncate(time.Millisecond)}
	secret := APIKeyPrefix + k.ID + "_" + randomToken(keySecretBytes)
	esc, _ := json.Marshal(k.Escopos)
	_, err = s.st.DB.ExecContext(ctx, `INSERT INTO auth_chaves (id, nome, escopos, segredo_hash, criada_em, criada_por)
		VALUES ($1, $2, $3, $4, $5, $6)`, k.ID, k.Nome, string(esc), hashSecret(secret), k.CriadaEm.UnixMilli(), k.CriadaPor)
	if err != nil {
		return APIKey{}, "", err
	}
	s.audit(ctx, "chaves.criar", "chave:"+k.ID+" "+k.Nome, ResultSuccess, "escopos "+string(esc))
	return k, secret, nil
}

// principalName is how a principal is recorded as an actor.
func principalName(p *Principal) string {
	if p == nil {
		return "sistema"
	}
	return p.String()
}

const apiKeyColumns = `id, nome, escopos, segredo_hash, criada_em, criada_por, ultimo_uso_em, revogada_em`

func scanAPIKey(row interface{ Scan(...any) error }) (apiKeyRow, error) {
	var k apiKeyRow
	var esc string
	var criada int64
	var uso, rev sql.NullInt64
	err := row.Scan(&k.ID, &k.Nome, &esc, &k.hash, &criada, &k.CriadaPor, &uso, &rev)
	if errors.Is(err, sql.ErrNoRows) {
		return k, ErrNotFound
	}
	if err != nil {
		return k, err
	}
	if err := json.Unmarshal([]byte(esc), &k.Escopos); err != nil {
		return k, fmt.Errorf("api key %s: scopes: %w", k.ID, err)
	}
	k.CriadaEm = time.UnixMilli(criada).UTC()
	k.UltimoUsoEm, k.RevogadaEm = msPtr(uso), msPtr(rev)
	return k, nil
}

// msPtr turns a nullable unix ms column into a time.
func msPtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := time.UnixMilli(v.Int64).UTC()
	return &t
}

// ListAPIKeys returns up to limite keys (1..500, default 50), oldest
// first, after cursor; revoked keys are included.
func (s *Service) ListAPIKeys(ctx context.Context, limite int, cursor string) (APIKeyPage, error) {
	limite = clampLimit(limite)
	afterAt, afterID, err := parseKeyCursor(cursor)
	if err != nil {
		return APIKeyPage{}, err
	}
	rows, err := s.st.DB.QueryContext(ctx, `SELECT `+apiKeyColumns+` FROM auth_chaves
		WHERE criada_em > $1 OR (criada_em = $1 AND id > $2) ORDER BY criada_em, id LIMIT $3`, afterAt, afterID, limite+1)
	if err != nil {
		return APIKeyPage{}, err
	}
	defer rows.Close()
	p := APIKeyPage{Chaves: []APIKey{}}
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return APIKeyPage{}, err
		}
		p.Chaves = append(p.Chaves, k.APIKey)
	}
	if len(p.Chaves) > limite {
		p.Chaves = p.Chaves[:limite]
		last := p.Chaves[limite-1]
		p.ProximoCursor = strconv.FormatInt(last.CriadaEm.UnixMilli(), 10) + "." + last.ID
	}
	return p, rows.Err()
}

// parseKeyCursor parses "<criada_em ms>.<id>"; "" is the start.
func parseKeyCursor(c string) (int64, string, error) {
	if c == "" {
		return -1, "", nil
	}
	at, id, ok := strings.Cut(c, ".")
	n, err := strconv.ParseInt(at, 10, 64)
	if !ok || err != nil || !validKeyID(id) {
		return 0, "", &FieldError{Field: "cursor", Reason: "cursor inválido; use o proximo_cursor da página anterior"}
	}
	return n, id, nil
}

// validKeyID reports whether id is 16 lower-case hex digits.
func validKeyID(id string) bool {
	if len(id) != 2*keyIDBytes {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// RevokeAPIKey revokes a key; revoking a revoked key again is not an error.
func (s *Service) RevokeAPIKey(ctx context.Context, id string) error {
	if !validKeyID(id) {
		return ErrNotFound
	}
	res, err := s.st.DB.ExecContext(ctx, `UPDATE auth_chaves SET revogada_em = $1 WHERE id = $2 AND revogada_em IS NULL`,
		s.nowMS(), id)
	if err != nil {
		return err
	}
	s.apiKeys.drop(id)
	if n, _ := res.RowsAffected(); n == 0 {
		var one int
		if err := s.st.DB.QueryRowContext(ctx, `SELECT 1 FROM auth_chaves WHERE id = $1`, id).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		return err
	}
	s.audit(ctx, "chaves.revogar", "chave:"+id, ResultSuccess, "")
	return nil
}

// splitAPIKey checks the shape of a key string and returns its id.
func splitAPIKey(raw string) (string, bool) {
	if len(raw) != apiKeyLen || !strings.HasPrefix(raw, APIKeyPrefix) {
		return "", false
	}
	id := raw[len(APIKeyPrefix) : len(APIKeyPrefix)+2*keyIDBytes]
	rest := raw[len(APIKeyPrefix)+2*keyIDBytes:]
	if !validKeyID(id) || rest[0] != '_' {
		return "", false
	}
	if _, err := base64.RawURLEncoding.Strict().DecodeString(rest[1:]); err != nil {
		return "", false
	}
	return id, true
}

// authenticateAPIKey resolves a key string to its principal.
func (s *Service) authenticateAPIKey(ctx context.Context, raw string) (*Principal, error) {
	id, ok := splitAPIKey(raw)
	if !ok {
		return nil, badCredentials("chave de API malformada")
	}
	k, err := s.cachedAPIKey(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, badCredentials("chave de API inválida")
	}
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(hashSecret(raw)), []byte(k.hash)) != 1 {
		return nil, badCredentials("chave de API inválida")
	}
	if k.RevogadaEm != nil {
		return nil, badCredentials("chave de API revogada")
	}
	s.touchAPIKey(ctx, id)
	return &Principal{Tipo: PrincipalAPIKey, ID: k.ID, Nome: k.Nome, Escopos: keyScopes(k.Escopos)}, nil
}

// keyScopes returns a key's scopes plus auth:proprio.
func keyScopes(esc []Permission) []Permission {
	out := slices.Clone(esc)
	if !slices.Contains(out, PermAuthProprio) {
		out = append(out, PermAuthProprio)
	}
	return out
}

// cachedAPIKey returns a key from the short-lived cache, or the store.
func (s *Service) cachedAPIKey(ctx context.Context, id string) (apiKeyRow, error) {
	if k, ok := s.apiKeys.get(id, s.now()); ok {
		return k, nil
	}
	gen := s.apiKeys.generation()
	k, err := scanAPIKey(s.st.DB.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM auth_chaves WHERE id = $1`, id))
	if err == nil {
		s.apiKeys.put(id, k, s.now(), gen)
	}
	return k, err
}

// touchAPIKey records that a key was used, at most once per
// keyTouchInterval per key and instance; the WHERE clause also keeps other
// instances from writing within the interval.
func (s *Service) touchAPIKey(ctx context.Context, id string) {
	now := s.now()
	s.touchMu.Lock()
	last, ok := s.touched[id]
	due := !ok || now.Sub(last) >= keyTouchInterval || now.Before(last)
	if due {
		if len(s.touched) >= 10000 {
			clear(s.touched)
		}
		s.touched[id] = now
	}
	s.touchMu.Unlock()
	if !due {
		return
	}
	_, err := s.st.DB.ExecContext(ctx, `UPDATE auth_chaves SET ultimo_uso_em = $1
		WHERE id = $2 AND (ultimo_uso_em IS NULL OR ultimo_uso_em <= $3)`,
		now.UnixMilli(), id, now.Add(-keyTouchInterval).UnixMilli())
	if err != nil && ctx.Err() == nil {
		s.log.WarnContext(ctx, "auth: record API key use", "key", id, "error", err)
	}
}
