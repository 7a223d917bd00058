package repo

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"sync/atomic"
	"testing"

	"github.com/painel-universal/painel/internal/backup/storage"
)

// nullBackend drops what is written (Put throughput without storage cost).
type nullBackend struct{ memBackend }

func (n *nullBackend) Put(ctx context.Context, name string, r io.Reader, size int64) error {
	_, err := io.Copy(io.Discard, r)
	return err
}

// benchData returns incompressible ("random") or compressible ("records":
// table-like rows, as in a database page) data.
func benchData(kind string, size int) []byte {
	if kind == "random" {
		return randBytes(42, size)
	}
	var b []byte
	for i := 0; len(b) < size; i++ {
		b = fmt.Appendf(b, "%08d|cliente %d|pedido aprovado|%d.%02d|2026-11-%02dT%02d:%02d:00Z|%x\n",
			i, i*7919%1000, i*31%5000, i%100, 1+i%28, i%24, i%60, uint32(i*2654435761))
	}
	return b[:size]
}

// BenchmarkPut measures Put throughput (MB/s of chunk data) for
// incompressible and compressible chunks, with and without encryption, one
// goroutine and GOMAXPROCS goroutines. Every Put stores a new chunk.
func BenchmarkPut(b *testing.B) {
	for _, enc := range []string{"plain", "encrypted"} {
		for _, kind := range []string{"random", "records"} {
			for _, size := range []int{4 << 10, 1 << 20} {
				for _, par := range []bool{false, true} {
					name := fmt.Sprintf("%s/%s/%dKiB/parallel=%v", enc, kind, size>>10, par)
					b.Run(name, func(b *testing.B) {
						pass := ""
						if enc == "encrypted" {
							pass = "x"
						}
						r := mustInit(b, &nullBackend{*newMem()}, Options{Passphrase: pass})
						ctx := context.Background()
						base := benchData(kind, size)
						var ctr atomic.Uint64
						var stored atomic.Int64
						b.SetBytes(int64(size))
						b.ResetTimer()
						put := func(buf []byte) {
							binary.LittleEndian.PutUint64(buf, ctr.Add(1)) // a new chunk each time
							_, n, err := r.Put(ctx, buf)
							if err != nil {
								b.Error(err)
							}
							stored.Add(n)
						}
						if par {
							b.RunParallel(func(pb *testing.PB) {
								buf := append([]byte(nil), base...)
								for pb.Next() {
									put(buf)
								}
							})
						} else {
							buf := append([]byte(nil), base...)
							for i := 0; i < b.N; i++ {
								put(buf)
							}
						}
						if err := r.Flush(ctx); err != nil {
							b.Fatal(err)
						}
						b.ReportMetric(float64(stored.Load())/float64(int64(b.N)*int64(size)), "stored/byte")
					})
				}
			}
		}
	}
}

// BenchmarkGet measures Get (one range read per chunk) and GetMany
// (coalesced range reads) throughput from an in-memory backend.
func BenchmarkGet(b *testing.B) {
	for _, enc := range []string{"plain", "encrypted"} {
		for _, kind := range []string{"random", "records"} {
			for _, size := range []int{4 << 10, 1 << 20} {
				pass := ""
				if enc == "encrypted" {
					pass = "x"
				}
				be := newMem()
				r := mustInit(b, be, Options{Passphrase: pass})
				ctx := context.Background()
				n := max(64, (64<<20)/size/4)
				ids := make([]ID, n)
				buf := benchData(kind, size)
				for i := range ids {
					binary.LittleEndian.PutUint64(buf, uint64(i))
					ids[i] = mustPut(b, r, buf)
				}
				mustFlush(b, r)
				r = mustOpen(b, be, Options{Passphrase: pass})
				b.Run(fmt.Sprintf("Get/%s/%s/%dKiB", enc, kind, size>>10), func(b *testing.B) {
					b.SetBytes(int64(size))
					for i := 0; i < b.N; i++ {
						if _, err := r.Get(ctx, ids[i%n]); err != nil {
							b.Fatal(err)
						}
					}
				})
				b.Run(fmt.Sprintf("GetMany/%s/%s/%dKiB", enc, kind, size>>10), func(b *testing.B) {
					b.SetBytes(int64(size))
					done := 0
					for done < b.N {
						batch := ids[:min(n, b.N-done)]
						if err := r.GetMany(ctx, batch, func(ID, []byte) error { return nil }); err != nil {
							b.Fatal(err)
						}
						done += len(batch)
					}
				})
			}
		}
	}
}

// BenchmarkGetLocal compares Get (one range read per chunk) with GetMany
// (coalesced range reads) on the local backend, for 4 KiB chunks such as
// SQLite pages.
func BenchmarkGetLocal(b *testing.B) {
	be, err := storage.OpenLocal(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	r := mustInit(b, be, Options{})
	ctx := context.Background()
	const n = 4096
	ids := make([]ID, n)
	buf := benchData("records", 4<<10)
	for i := range ids {
		binary.LittleEndian.PutUint64(buf, uint64(i))
		ids[i] = mustPut(b, r, buf)
	}
	mustFlush(b, r)
	r = mustOpen(b, be, Options{})
	b.Run("Get", func(b *testing.B) {
		b.SetBytes(4 << 10)
		for i := 0; i < b.N; i++ {
			if _, err := r.Get(ctx, ids[i%n]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("GetMany", func(b *testing.B) {
		b.SetBytes(4 << 10)
		for done := 0; done < b.N; {
			batch := ids[:min(n, b.N-done)]
			if err := r.GetMany(ctx, batch, func(ID, []byte) error { return nil }); err != nil {
				b.Fatal(err)
			}
			done += len(batch)
		}
	})
}
