package auth

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// ErrInvalidCredentials is a failed login: unknown email, wrong password
// or inactive user, deliberately not told apart.
var ErrInvalidCredentials = errors.New("auth: invalid email or password")

// LockedError is a login refused, without checking the password, because
// of earlier failures for the same email or client IP.
type LockedError struct{ RetryAfter time.Duration }

func (e *LockedError) Error() string {
	return fmt.Sprintf("auth: too many failed logins; retry in %s", e.RetryAfter)
}

// Login checks an email and password, from client address ip, and starts
// a session. It is ErrInvalidCredentials for any wrong input (taking about
// as long for an unknown email as for a wrong password), *LockedError
// while the login guard locks the email or IP. A stored hash made with
// other parameters than the current ones is replaced.
func (s *Service) Login(ctx context.Context, email, senha, ip string) (pair TokenPair, err error) {
	email = normalizeEmail(email)
	wait, end := s.guard.Begin(email, ip)
	if wait > 0 {
		return TokenPair{}, &LockedError{RetryAfter: wait}
	}
	outcome := LoginAborted
	defer func() { end(outcome) }()
	s.maybePrune(ctx)
	u, err := s.userByEmail(ctx, email)
	known := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return TokenPair{}, err
	}
	phc := s.dummyHash
	if known {
		phc = u.hash
	}
	ok, rehash, err := s.verifyPassword(ctx, senha, phc)
	if err != nil {
		return TokenPair{}, err
	}
	if !known || !ok || !u.Ativo || len(senha) > maxPasswordBytes {
		outcome = LoginFailed
		s.audit(ctx, "auth.login", "email:"+truncate(email, 254), ResultFailure, loginFailure(known, ok, u.Ativo))
		return TokenPair{}, ErrInvalidCredentials
	}
	outcome = LoginSucceeded
	if rehash {
		s.rehash(ctx, u, senha)
	}
	pair, err = s.newSession(ctx, u)
	if err != nil {
		return TokenPair{}, err
	}
	s.audit(WithPrincipal(ctx, userPrincipal(u)), "auth.login", userTarget(u), ResultSuccess, "")
	return pair, nil
}

// loginFailure says why a login failed, for the audit log only.
func loginFailure(known, ok, active bool) string {
	switch {
	case !known:
		return "e-mail desconhecido"
	case !ok:
		return "senha incorreta"
	case !active:
		return "usuário inativo"
	}
	return "senha longa demais"
}

// rehash stores senha hashed with the current parameters, unless the hash
// changed meanwhile (a password change wins). Failures are only logged:
// the login itself succeeded.
func (s *Service) rehash(ctx context.Context, u User, senha string) {
	h, err := s.hashPassword(ctx, senha)
	if err == nil {
		_, err = s.st.DB.ExecContext(ctx, `UPDATE auth_usuarios SET senha_hash = $1 WHERE id = $2 AND senha_hash = $3`,
			h, u.ID, u.hash)
	}
	if err != nil && ctx.Err() == nil {
		s.log.WarnContext(ctx, "auth: rehash password", "usuario", strconv.FormatInt(u.ID, 10), "error", err)
	}
}
