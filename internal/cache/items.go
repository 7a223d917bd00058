package cache

import (
	"context"
	"time"
	"unicode/utf8"

	"github.com/painel-universal/painel/internal/cache/policy"
)

// Value is a cached item as it travels between tiers.
type Value struct {
	Key         string    `json:"chave"`
	Data        []byte    `json:"-"`
	ContentType string    `json:"content_type"`
	Tags        []string  `json:"tags,omitempty"`
	ExpiresAt   time.Time `json:"expira_em,omitzero"`
}

func (v *Value) entry() *policy.Entry {
	return &policy.Entry{Key: v.Key, Value: v.Data, ContentType: v.ContentType, Tags: v.Tags, ExpiresAt: v.ExpiresAt}
}

func valueOf(e *policy.Entry) *Value {
	return &Value{Key: e.Key, Data: e.Value, ContentType: e.ContentType, Tags: e.Tags, ExpiresAt: e.ExpiresAt}
}

// ValidateKey checks a key's size and characters.
func ValidateKey(key string) error {
	switch {
	case key == "":
		return &FieldError{Field: "chave", Reason: "obrigatória"}
	case len(key) > MaxKeyBytes:
		return &FieldError{Field: "chave", Reason: "no máximo 512 bytes"}
	case !utf8.ValidString(key):
		return &FieldError{Field: "chave", Reason: "UTF-8 inválido"}
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f {
			return &FieldError{Field: "chave", Reason: "caractere de controle"}
		}
	}
	return nil
}

func validateTags(tags []string) error {
	if len(tags) > MaxTags {
		return &FieldError{Field: "tags", Reason: "no máximo 16 tags"}
	}
	for _, t := range tags {
		if t == "" || len(t) > MaxTagBytes || !utf8.ValidString(t) {
			return &FieldError{Field: "tags", Reason: "cada tag com 1 a 64 bytes UTF-8"}
		}
	}
	return nil
}

// Get returns the value under key in area: from this instance, or from
// the shared tier (then kept locally).
func (m *Manager) Get(ctx context.Context, area, key string) (*Value, bool, error) {
	a, err := m.Area(area)
	if err != nil {
		return nil, false, err
	}
	if e, ok := a.Get(key); ok {
		return valueOf(e), true, nil
	}
	if m.tier == nil {
		return nil, false, nil
	}
	gen := a.gen.Load()
	v, ok, err := m.tier.Get(ctx, area, key)
	if err != nil || !ok {
		return nil, false, err
	}
	if a.gen.Load() == gen { // nothing changed meanwhile: safe to keep locally
		_ = a.cache().Set(v.entry()) // too large for the area is fine to skip
		a.tag(v.Key, v.Tags)
	}
	return v, true, nil
}

// Set stores v in area (and the shared tier), and tells other instances
// to drop their copy.
func (m *Manager) Set(ctx context.Context, area string, v *Value) error {
	if err := ValidateKey(v.Key); err != nil {
		return err
	}
	if err := validateTags(v.Tags); err != nil {
		return err
	}
	if len(v.Data) > MaxValueBytes {
		return &FieldError{Field: "valor", Reason: "no máximo 8 MiB"}
	}
	a, err := m.Area(area)
	if err != nil {
		return err
	}
	e := v.entry()
	if err := a.Set(e); err != nil {
		return err
	}
	v.ExpiresAt = e.ExpiresAt // the area's default TTL may have applied
	if m.tier != nil {
		if err := m.tier.Set(ctx, area, v); err != nil {
			a.Delete(v.Key) // never keep locally what the shared tier lacks
			return err
		}
		m.invalidate(ctx, Invalidation{Op: "chave", Area: area, Arg: v.Key})
	}
	return nil
}

// Delete removes key from area everywhere.
func (m *Manager) Delete(ctx context.Context, area, key string) (bool, error) {
	a, err := m.Area(area)
	if err != nil {
		return false, err
	}
	ok := a.Delete(key)
	if m.tier != nil {
		if err := m.tier.Delete(ctx, area, key); err != nil {
			return ok, err
		}
		m.invalidate(ctx, Invalidation{Op: "chave", Area: area, Arg: key})
	}
	return ok, nil
}

// DeleteTag removes every item tagged t, in every area.
func (m *Manager) DeleteTag(ctx context.Context, t string) (int, error) {
	n := 0
	for _, a := range m.Areas() {
		n += a.DeleteTag(t)
		if m.tier != nil {
			name := a.Config().Nome
			if err := m.tier.DeleteTag(ctx, name, t); err != nil {
				return n, err
			}
			m.invalidate(ctx, Invalidation{Op: "tag", Area: name, Arg: t})
		}
	}
	return n, nil
}

// Clear empties one area, or all when area is "".
func (m *Manager) Clear(ctx context.Context, area string) (int, error) {
	var areas []*Area
	if area == "" {
		areas = m.Areas()
	} else {
		a, err := m.Area(area)
		if err != nil {
			return 0, err
		}
		areas = []*Area{a}
	}
	n := 0
	for _, a := range areas {
		n += a.cache().Len()
		a.Clear()
		if m.tier != nil {
			name := a.Config().Nome
			if err := m.tier.Clear(ctx, name); err != nil {
				return n, err
			}
			m.invalidate(ctx, Invalidation{Op: "limpar", Area: name})
		}
	}
	return n, nil
}
