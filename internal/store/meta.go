package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
)

// ErrNotFound reports a missing row.
var ErrNotFound = errors.New("not found")

// GetMeta returns the value stored under key, or ErrNotFound.
func (s *Store) GetMeta(ctx context.Context, key string) (string, error) {
	var v string
	err := s.DB.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = $1`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return v, err
}

// PutMeta stores value under key, replacing any previous value.
func (s *Store) PutMeta(ctx context.Context, key, value string) error {
	_, err := s.DB.ExecContext(ctx, `INSERT INTO meta (key, value, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		key, value, Now())
	return err
}

// InstallationID returns the id of this installation, creating it on first
// use. Every instance that shares the database gets the same id, even when
// they start together.
func (s *Store) InstallationID(ctx context.Context) (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	var id string
	err := s.DB.QueryRowContext(ctx, `INSERT INTO meta (key, value, updated_at) VALUES ('installation_id', $1, $2)
		ON CONFLICT (key) DO UPDATE SET key = meta.key RETURNING value`, hex.EncodeToString(b), Now()).Scan(&id)
	return id, err
}
