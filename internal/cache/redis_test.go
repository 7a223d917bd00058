package cache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/painel-universal/painel/internal/testenv"
)

// instance is one service instance: its own store handle, manager and
// Redis tier (the store file and Redis are shared, as behind a load
// balancer).
func instance(t *testing.T, ctx context.Context, dbPath, redisURL string) *Manager {
	t.Helper()
	m, err := NewManager(ctx, openStore(t, "sqlite://"+dbPath), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	tier, err := NewRedisTier(ctx, redisURL, m.ApplyRemote, nil)
	if err != nil {
		t.Fatal(err)
	}
	m.SetTier(tier)
	var wg sync.WaitGroup
	wg.Add(1)
	rctx, cancel := context.WithCancel(ctx)
	go func() { defer wg.Done(); _ = tier.Run(rctx) }()
	t.Cleanup(func() { cancel(); wg.Wait(); tier.Close() })
	return m
}

// TestTwoInstancesNeverServeStale: a write on one instance is never served
// stale by the other once the write (and its invalidation) returned.
func TestTwoInstancesNeverServeStale(t *testing.T) {
	url := testenv.RedisURL(t)
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "painel.db")
	a := instance(t, ctx, db, url)
	b := instance(t, ctx, db, url)

	var r [4]byte
	_, _ = rand.Read(r[:])
	area := "dois-" + hex.EncodeToString(r[:])
	if _, err := a.PutArea(ctx, AreaConfig{Nome: area, Estrategia: "lru", TamanhoMaxBytes: 1 << 20, Otimizar: true}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.DeleteArea(context.Background(), area) })
	if _, err := b.Area(area); err != nil {
		t.Fatalf("the other instance does not know the new area after PutArea returned: %v", err)
	}

	for i := 0; i < 300; i++ {
		writer, reader := a, b
		if i%2 == 1 {
			writer, reader = b, a
		}
		want := fmt.Sprintf("versão %d", i)
		if err := writer.Set(ctx, area, &Value{Key: "k", Data: []byte(want), ContentType: "text/plain", Tags: []string{"t"}}); err != nil {
			t.Fatal(err)
		}
		// The reader may hold the previous version locally; it must not
		// serve it now.
		for _, m := range []*Manager{reader, writer} {
			v, ok, err := m.Get(ctx, area, "k")
			if err != nil || !ok || string(v.Data) != want {
				got := ""
				if v != nil {
					got = string(v.Data)
				}
				t.Fatalf("round %d: read %q (ok=%v, %v), want %q", i, got, ok, err, want)
			}
		}
	}
	if _, err := a.DeleteTag(ctx, "t"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := b.Get(ctx, area, "k"); ok {
		t.Error("tag deletion on one instance: the other still serves the item")
	}
	if err := b.Set(ctx, area, &Value{Key: "x", Data: []byte("1")}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := a.Get(ctx, area, "x"); !ok {
		t.Fatal("the shared tier did not serve a value written by the other instance")
	}
	if _, err := b.Clear(ctx, area); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := a.Get(ctx, area, "x"); ok {
		t.Error("clear on one instance: the other still serves the item")
	}
	if _, err := a.Delete(ctx, area, "x"); err != nil {
		t.Fatal(err)
	}
}
