package auth

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// RefreshPrefix starts every refresh token.
const RefreshPrefix = "pnr_"

// refreshBytes is the entropy of a refresh token: 256 bits.
const refreshBytes = 32

// TokenPair is what login and refresh answer, as OAuth2 clients expect.
type TokenPair struct {
	AccessToken  string `json:"access_token" doc:"JWT for Authorization: Bearer" example:"eyJhbGciOiJFZERTQSIsImtpZCI6IjNxN2hLdmRjWkJ0dFlPV3AiLCJ0eXAiOiJKV1QifQ.eyJwYXBlbCI6ImFkbWluIn0.c2ln"`
	RefreshToken string `json:"refresh_token" doc:"Opaque; exchange it at POST /auth/refresh (single use)" example:"pnr_Vt1kQ0d0m3a5s0bLZ0l3cF9pY2xKc3RhcmJ1Y2tzLTEyMw"`
	TokenType    string `json:"token_type" enum:"bearer" example:"bearer"`
	ExpiresIn    int64  `json:"expires_in" doc:"Seconds until the access token expires" example:"900"`
}

// Errors of the session operations.
var (
	// ErrRefreshInvalid is an unknown, expired, used-up or revoked refresh
	// token.
	ErrRefreshInvalid = errors.New("auth: invalid refresh token")
	// ErrRefreshReused is a refresh token presented again after it was
	// rotated: its whole family has been revoked.
	ErrRefreshReused = errors.New("auth: refresh token reused; session revoked")
)

// hashSecret returns the hex SHA-256 of a token or key, as stored.
func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// wellFormedRefresh reports whether tok looks like one of our refresh
// tokens (saves a query for garbage).
func wellFormedRefresh(tok string) bool {
	rest, ok := strings.CutPrefix(tok, RefreshPrefix)
	if !ok || len(rest) != base64.RawURLEncoding.EncodedLen(refreshBytes) {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(rest)
	return err == nil
}

// insertRefresh stores a new refresh token of family fam and returns it.
func (s *Service) insertRefresh(ctx context.Context, tx *sql.Tx, fam string, userID int64) (string, error) {
	tok := RefreshPrefix + randomToken(refreshBytes)
	now := s.now()
	_, err := tx.ExecContext(ctx, `INSERT INTO auth_refresh_tokens (hash, familia_id, usuario_id, criado_em, expira_em)
		VALUES ($1, $2, $3, $4, $5)`, hashSecret(tok), fam, userID, now.UnixMilli(), now.Add(s.opts.RefreshTTL).UnixMilli())
	return tok, err
}

// newSession starts a refresh family for u and returns its first pair.
func (s *Service) newSession(ctx context.Context, u User) (TokenPair, error) {
	var refresh string
	err := s.st.Tx(ctx, func(tx *sql.Tx) error {
		fam := randomToken(16)
		if _, err := tx.ExecContext(ctx, `INSERT INTO auth_refresh_familias (id, usuario_id, criada_em) VALUES ($1, $2, $3)`,
			fam, u.ID, s.nowMS()); err != nil {
			return err
		}
		var err error
		refresh, err = s.insertRefresh(ctx, tx, fam, u.ID)
		return err
	})
	if err != nil {
		return TokenPair{}, err
	}
	return s.pair(u, refresh)
}

// pair signs an access token for u and pairs it with refresh.
func (s *Service) pair(u User, refresh string) (TokenPair, error) {
	access, err := s.issueAccessToken(u)
	if err != nil {
		return TokenPair{}, err
	}
	return TokenPair{AccessToken: access, RefreshToken: refresh, TokenType: "bearer",
		ExpiresIn: int64(s.opts.AccessTTL / time.Second)}, nil
}

// refreshRow is a stored refresh token with its family's state.
type refreshRow struct {
	family  string
	userID  int64
	expires int64
	used    sql.NullInt64
	revoked sql.NullInt64
}

func (s *Service) findRefresh(ctx context.Context, tx *sql.Tx, tok string) (refreshRow, error) {
	var r refreshRow
	err := tx.QueryRowContext(ctx, `SELECT t.familia_id, t.usuario_id, t.expira_em, t.usado_em, f.revogada_em
		FROM auth_refresh_tokens t JOIN auth_refresh_familias f ON f.id = t.familia_id WHERE t.hash = $1`,
		hashSecret(tok)).Scan(&r.family, &r.userID, &r.expires, &r.used, &r.revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return r, ErrRefreshInvalid
	}
	return r, err
}

// Refresh exchanges a refresh token for a new pair, marking it used. A
// token that was already used revokes its whole family (the legitimate
// client and a thief both hold the family: neither may go on) and is
// ErrRefreshReused; any other bad token is ErrRefreshInvalid.
func (s *Service) Refresh(ctx context.Context, tok string) (TokenPair, error) {
	if !wellFormedRefresh(tok) {
		return TokenPair{}, ErrRefreshInvalid
	}
	var u User
	var next string
	var reused refreshRow
	err := s.st.Tx(ctx, func(tx *sql.Tx) error {
		r, err := s.findRefresh(ctx, tx, tok)
		if err != nil {
			return err
		}
		if r.revoked.Valid {
			return ErrRefreshInvalid
		}
		if !r.used.Valid && r.expires > s.nowMS() {
			u, next, err = s.rotate(ctx, tx, tok, r)
			if !errors.Is(err, ErrRefreshReused) {
				return err
			}
		} else if !r.used.Valid {
			return ErrRefreshInvalid // expired
		}
		reused = r
		return s.revokeFamily(ctx, tx, r.family, "refresh token reutilizado")
	})
	if reused.family != "" && err == nil {
		s.audit(ctx, "auth.refresh.reuso", "usuario:"+strconv.FormatInt(reused.userID, 10), ResultDenied,
			"refresh token reutilizado: sessão revogada")
		return TokenPair{}, ErrRefreshReused
	}
	if err != nil {
		return TokenPair{}, err
	}
	return s.pair(u, next)
}

// rotate marks tok used (only if nobody did it first: that is a reuse
// too) and stores its successor, for an active user.
func (s *Service) rotate(ctx context.Context, tx *sql.Tx, tok string, r refreshRow) (User, string, error) {
	res, err := tx.ExecContext(ctx, `UPDATE auth_refresh_tokens SET usado_em = $1 WHERE hash = $2 AND usado_em IS NULL`,
		s.nowMS(), hashSecret(tok))
	if err != nil {
		return User{}, "", err
	}
	if n, err := res.RowsAffected(); err != nil {
		return User{}, "", err
	} else if n == 0 {
		return User{}, "", ErrRefreshReused
	}
	u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM auth_usuarios WHERE id = $1`, r.userID))
	if errors.Is(err, ErrNotFound) || (err == nil && !u.Ativo) {
		return u, "", ErrRefreshInvalid
	}
	if err != nil {
		return u, "", err
	}
	next, err := s.insertRefresh(ctx, tx, r.family, u.ID)
	return u, next, err
}

// Logout revokes the family of a refresh token. An unknown token is not an
// error (the session is over either way).
func (s *Service) Logout(ctx context.Context, tok string) error {
	if !wellFormedRefresh(tok) {
		return nil
	}
	var r refreshRow
	err := s.st.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if r, err = s.findRefresh(ctx, tx, tok); err != nil {
			return err
		}
		return s.revokeFamily(ctx, tx, r.family, "logout")
	})
	if errors.Is(err, ErrRefreshInvalid) {
		return nil
	}
	if err == nil {
		// The actor is the session's user, whatever credential (none) the request carried.
		uid := strconv.FormatInt(r.userID, 10)
		if aerr := s.Record(ctx, AuditEntry{QuemTipo: PrincipalUser, QuemID: uid, Acao: "auth.logout",
			Alvo: "usuario:" + uid, Resultado: ResultSuccess}); aerr != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "auth: audit", "acao", "auth.logout", "error", aerr)
		}
	}
	return err
}

// revokeFamily revokes one refresh family.
func (s *Service) revokeFamily(ctx context.Context, tx *sql.Tx, fam, why string) error {
	_, err := tx.ExecContext(ctx, `UPDATE auth_refresh_familias SET revogada_em = $1, motivo = $2
		WHERE id = $3 AND revogada_em IS NULL`, s.nowMS(), why, fam)
	return err
}

// revokeUserFamilies revokes every refresh family of a user.
func (s *Service) revokeUserFamilies(ctx context.Context, tx *sql.Tx, userID int64, why string) error {
	_, err := tx.ExecContext(ctx, `UPDATE auth_refresh_familias SET revogada_em = $1, motivo = $2
		WHERE usuario_id = $3 AND revogada_em IS NULL`, s.nowMS(), why, userID)
	return err
}

// pruneGrace is how long expired refresh tokens are kept, so that a
// replayed one is still recognised as reuse for a while.
const pruneGrace = 24 * time.Hour

// Prune deletes refresh tokens that expired more than a day ago and the
// families left empty. Login runs it at most once an hour.
func (s *Service) Prune(ctx context.Context) error {
	cut := s.now().Add(-pruneGrace).UnixMilli()
	return s.st.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM auth_refresh_tokens WHERE expira_em < $1`, cut); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM auth_refresh_familias WHERE NOT EXISTS
			(SELECT 1 FROM auth_refresh_tokens t WHERE t.familia_id = auth_refresh_familias.id)`)
		return err
	})
}

// maybePrune runs Prune when the last run is an hour old.
func (s *Service) maybePrune(ctx context.Context) {
	now := s.nowMS()
	last := s.lastPrune.Load()
	if now-last < time.Hour.Milliseconds() || !s.lastPrune.CompareAndSwap(last, now) {
		return
	}
	if err := s.Prune(ctx); err != nil && ctx.Err() == nil {
		s.log.WarnContext(ctx, "auth: prune refresh tokens", "error", err)
	}
}
