package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/painel-universal/painel/internal/store"
)

func TestAuditRecordAndList(t *testing.T) {
	engines(t, func(t *testing.T, st *store.Store) {
		clk := newClock()
		s := newService(t, st, clk)
		ctx := WithClientIP(WithPrincipal(context.Background(), &Principal{Tipo: PrincipalUser, ID: "7", Nome: "Ana"}), "203.0.113.7")
		start := clk.Now()
		for i := range 5 {
			if err := s.Record(ctx, AuditEntry{Acao: "backup.executar", Alvo: fmt.Sprint("backup:", i), Resultado: ResultSuccess}); err != nil {
				t.Fatal(err)
			}
			clk.Advance(time.Second)
		}
		if err := s.Record(context.Background(), AuditEntry{Acao: "backup_x", Resultado: "409",
			Detalhe: strings.Repeat("ç", 400) + "\x00\xff"}); err != nil {
			t.Fatal(err)
		}
		if err := s.Record(ctx, AuditEntry{Acao: "cache.limpar", QuemTipo: "sistema", QuemID: "agendador", Resultado: ResultFailure}); err != nil {
			t.Fatal(err)
		}

		all, err := s.ListAudit(ctx, AuditFilter{})
		if err != nil || len(all.Entradas) != 7 || all.Entradas[0].Acao != "cache.limpar" || all.Entradas[0].QuemID != "agendador" {
			t.Fatalf("all: %+v, %v", all, err)
		}
		first := all.Entradas[6]
		if first.QuemTipo != PrincipalUser || first.QuemID != "7" || first.QuemNome != "Ana" || first.IP != "203.0.113.7" ||
			!first.Quando.Equal(start) || first.Alvo != "backup:0" {
			t.Fatalf("first entry %+v", first)
		}
		anon := all.Entradas[1]
		if anon.QuemTipo != "anonimo" || len(anon.Detalhe) > 500 || strings.ContainsRune(anon.Detalhe, 0) {
			t.Fatalf("anonymous entry %+v", anon)
		}

		// The prefix is literal: "backup." does not match "backup_x".
		p, _ := s.ListAudit(ctx, AuditFilter{AcaoPrefixo: "backup."})
		if len(p.Entradas) != 5 {
			t.Fatalf("prefix backup.: %d entries", len(p.Entradas))
		}
		if p, _ := s.ListAudit(ctx, AuditFilter{AcaoPrefixo: "BACKUP."}); len(p.Entradas) != 0 {
			t.Fatal("prefix is case-insensitive")
		}
		if p, _ := s.ListAudit(ctx, AuditFilter{AcaoPrefixo: "backup%"}); len(p.Entradas) != 0 {
			t.Fatal("prefix is a pattern")
		}
		if p, _ := s.ListAudit(ctx, AuditFilter{Quem: "Ana"}); len(p.Entradas) != 5 {
			t.Fatalf("quem=Ana: %d", len(p.Entradas))
		}
		if p, _ := s.ListAudit(ctx, AuditFilter{Quem: "agendador"}); len(p.Entradas) != 1 {
			t.Fatalf("quem=agendador: %d", len(p.Entradas))
		}
		p, _ = s.ListAudit(ctx, AuditFilter{Desde: start.Add(time.Second), Ate: start.Add(3 * time.Second)})
		if len(p.Entradas) != 2 || p.Entradas[0].Alvo != "backup:2" || p.Entradas[1].Alvo != "backup:1" {
			t.Fatalf("time range: %+v", p.Entradas)
		}

		// Cursor pages, newest first, no overlap.
		var ids []int64
		cursor := ""
		for {
			p, err := s.ListAudit(ctx, AuditFilter{Limite: 3, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range p.Entradas {
				ids = append(ids, e.ID)
			}
			if cursor = p.ProximoCursor; cursor == "" {
				break
			}
		}
		if len(ids) != 7 {
			t.Fatalf("pages gave %v", ids)
		}
		for i := 1; i < len(ids); i++ {
			if ids[i] >= ids[i-1] {
				t.Fatalf("not descending: %v", ids)
			}
		}
		var fe *FieldError
		if _, err := s.ListAudit(ctx, AuditFilter{Cursor: "x"}); !errors.As(err, &fe) {
			t.Fatalf("bad cursor: %v", err)
		}
		clk.Advance(time.Hour)
		if n, err := s.PruneAudit(ctx, start.Add(2*time.Second)); err != nil || n != 2 {
			t.Fatalf("PruneAudit = %d, %v", n, err)
		}
	})
}
