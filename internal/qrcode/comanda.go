package qrcode

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/painel-universal/painel/internal/store"
)

// Saldo is a comanda's balance.
type Saldo struct {
	ComandaID     string    `json:"comanda_id"`
	Numero        string    `json:"numero"`
	EventoID      string    `json:"evento_id"`
	SaldoCentavos int64     `json:"saldo_centavos"`
	Status        string    `json:"status" enum:"ativo,revogado"`
	AtualizadoEm  time.Time `json:"atualizado_em"`
}

// MovimentoInput credits or debits a comanda.
type MovimentoInput struct {
	Tipo              string `json:"tipo" enum:"credito,debito"`
	ValorCentavos     int64  `json:"valor_centavos" minimum:"1" maximum:"100000000000" example:"1290"`
	Descricao         string `json:"descricao,omitempty" maxLength:"200" example:"2x cerveja 600 ml"`
	ChaveIdempotencia string `json:"chave_idempotencia" minLength:"1" maxLength:"100" example:"pdv3-000123" doc:"Repeating a key returns the first result instead of moving money twice"`
}

// Movimento is one credit or debit.
type Movimento struct {
	ID                string    `json:"id"`
	ComandaID         string    `json:"comanda_id"`
	Tipo              string    `json:"tipo"`
	ValorCentavos     int64     `json:"valor_centavos"`
	Descricao         string    `json:"descricao"`
	ChaveIdempotencia string    `json:"chave_idempotencia"`
	SaldoAposCentavos int64     `json:"saldo_apos_centavos"`
	CriadoEm          time.Time `json:"criado_em"`
	Repetido          bool      `json:"repetido" doc:"True when the idempotency key was seen before and this is the first result"`
}

// Balance returns a comanda's balance.
func (s *Service) Balance(ctx context.Context, id string) (*Saldo, error) {
	if !validID(id) {
		return nil, ErrNotFound
	}
	var sd Saldo
	var at int64
	err := s.st.DB.QueryRowContext(ctx, `SELECT c.id, c.numero, c.evento_id, c.saldo_centavos, c.atualizado_em, q.status
		FROM comandas c JOIN qr_codes q ON q.id = c.id WHERE c.id = $1`, id).
		Scan(&sd.ComandaID, &sd.Numero, &sd.EventoID, &sd.SaldoCentavos, &at, &sd.Status)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	sd.AtualizadoEm = time.UnixMilli(at).UTC()
	return &sd, nil
}

func (in *MovimentoInput) validate() error {
	if in.Tipo != "credito" && in.Tipo != "debito" {
		return fieldErr("tipo", "use credito ou debito")
	}
	if in.ValorCentavos < 1 || in.ValorCentavos > 100_000_000_000 {
		return fieldErr("valor_centavos", "entre 1 e 100000000000")
	}
	return firstErr(
		validText("descricao", in.Descricao, false, 200),
		validText("chave_idempotencia", in.ChaveIdempotencia, true, 100),
	)
}

// Move credits or debits a comanda. A debit past zero is ErrInsufficient;
// a repeated idempotency key returns the first movement (or ErrConflict
// when the repeat asks for something else).
func (s *Service) Move(ctx context.Context, id string, in MovimentoInput) (*Movimento, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, ErrNotFound
	}
	for attempt := 0; ; attempt++ {
		m, err := s.move(ctx, id, in)
		if err != nil && store.IsUniqueViolation(err) && attempt < 3 {
			continue // a concurrent request with the same key won: read its result
		}
		return m, err
	}
}

func (s *Service) move(ctx context.Context, id string, in MovimentoInput) (*Movimento, error) {
	var out *Movimento
	err := s.st.Tx(ctx, func(tx *sql.Tx) error {
		// Lock the comanda's row first (a no-op update works on both
		// engines), so a repeat of the same key waits for the first and then
		// finds its movement instead of racing it to the balance check.
		if _, err := tx.ExecContext(ctx, `UPDATE comandas SET atualizado_em = atualizado_em WHERE id = $1`, id); err != nil {
			return err
		}
		prev, err := movementByKey(ctx, tx, id, in.ChaveIdempotencia)
		if err == nil {
			if prev.Tipo != in.Tipo || prev.ValorCentavos != in.ValorCentavos {
				return fmt.Errorf("%w: chave_idempotencia já usada para outro movimento (%s de %d centavos)", ErrConflict, prev.Tipo, prev.ValorCentavos)
			}
			prev.Repetido = true
			out = prev
			return nil
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		var status string
		switch err := tx.QueryRowContext(ctx, `SELECT status FROM qr_codes WHERE id = $1 AND tipo = 'comanda'`, id).Scan(&status); {
		case errors.Is(err, sql.ErrNoRows):
			return ErrNotFound
		case err != nil:
			return err
		case status == "revogado":
			return fmt.Errorf("%w: comanda revogada", ErrConflict)
		}
		now := s.now().UTC().Truncate(time.Millisecond)
		delta := in.ValorCentavos
		if in.Tipo == "debito" {
			delta = -delta
		}
		var saldo int64
		err = tx.QueryRowContext(ctx, `UPDATE comandas SET saldo_centavos = saldo_centavos + $2, atualizado_em = $3
			WHERE id = $1 AND saldo_centavos + $2 >= 0 RETURNING saldo_centavos`, id, delta, now.UnixMilli()).Scan(&saldo)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrInsufficient
		}
		if err != nil {
			return err
		}
		_, mid := newID()
		m := &Movimento{ID: mid, ComandaID: id, Tipo: in.Tipo, ValorCentavos: in.ValorCentavos, Descricao: in.Descricao,
			ChaveIdempotencia: in.ChaveIdempotencia, SaldoAposCentavos: saldo, CriadoEm: now}
		_, err = tx.ExecContext(ctx, `INSERT INTO comanda_movimentos (id, comanda_id, tipo, valor_centavos, descricao,
			chave_idempotencia, saldo_apos_centavos, criado_em) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`,
			m.ID, id, m.Tipo, m.ValorCentavos, m.Descricao, m.ChaveIdempotencia, saldo, now.UnixMilli())
		out = m
		return err
	})
	return out, err
}

func movementByKey(ctx context.Context, tx *sql.Tx, id, key string) (*Movimento, error) {
	var m Movimento
	var at int64
	err := tx.QueryRowContext(ctx, `SELECT id, comanda_id, tipo, valor_centavos, descricao, chave_idempotencia,
		saldo_apos_centavos, criado_em FROM comanda_movimentos WHERE comanda_id = $1 AND chave_idempotencia = $2`, id, key).
		Scan(&m.ID, &m.ComandaID, &m.Tipo, &m.ValorCentavos, &m.Descricao, &m.ChaveIdempotencia, &m.SaldoAposCentavos, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	m.CriadoEm = time.UnixMilli(at).UTC()
	return &m, nil
}
