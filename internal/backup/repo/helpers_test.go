package repo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/painel-universal/painel/internal/backup/storage"
)

func TestMain(m *testing.M) {
	// Thousands of Opens in the tests: derive keys cheaply. TestKDFCost
	// measures the real parameters.
	kdfForInit = KDFParams{Algorithm: "argon2id", Time: 1, MemoryKiB: 64, Threads: 1}
	os.Exit(m.Run())
}

// memBackend is an in-memory storage.Backend with the documented semantics.
type memBackend struct {
	mu   sync.Mutex
	objs map[string][]byte
}

var _ storage.Backend = (*memBackend)(nil)

func newMem() *memBackend { return &memBackend{objs: map[string][]byte{}} }

func (m *memBackend) Put(ctx context.Context, name string, r io.Reader, size int64) error {
	if err := storage.CheckName(name); err != nil {
		return err
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if size >= 0 && int64(len(b)) != size {
		return fmt.Errorf("mem: put %s: got %d bytes, announced %d", name, len(b), size)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objs[name] = b
	return nil
}

func (m *memBackend) get(name string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.objs[name]
	if !ok {
		return nil, fmt.Errorf("mem: %s: %w", name, storage.ErrNotExist)
	}
	return b, nil
}

func (m *memBackend) Get(ctx context.Context, name string) (io.ReadCloser, error) {
	b, err := m.get(name)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(bytes.Clone(b))), nil
}

func (m *memBackend) GetRange(ctx context.Context, name string, off, length int64) (io.ReadCloser, error) {
	b, err := m.get(name)
	if err != nil {
		return nil, err
	}
	size := int64(len(b))
	if off < 0 || length < 0 || off > size || (off == size && length > 0) {
		return nil, fmt.Errorf("mem: %s: range %d+%d of %d: %w", name, off, length, size, storage.ErrInvalidRange)
	}
	end := min(off+length, size)
	return io.NopCloser(bytes.NewReader(bytes.Clone(b[off:end]))), nil
}

func (m *memBackend) Stat(ctx context.Context, name string) (int64, error) {
	b, err := m.get(name)
	return int64(len(b)), err
}

func (m *memBackend) List(ctx context.Context, prefix string, fn func(string, int64) error) error {
	m.mu.Lock()
	type nv struct {
		n string
		s int64
	}
	var l []nv
	for n, b := range m.objs { // map order: "any order"
		if strings.HasPrefix(n, prefix) {
			l = append(l, nv{n, int64(len(b))})
		}
	}
	m.mu.Unlock()
	for _, x := range l {
		if err := fn(x.n, x.s); err != nil {
			return err
		}
	}
	return nil
}

func (m *memBackend) Delete(ctx context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objs, name)
	return nil
}

func (m *memBackend) Location() string { return "memory" }
func (m *memBackend) Close() error     { return nil }

func (m *memBackend) snapshot() map[string][]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := make(map[string][]byte, len(m.objs))
	for k, v := range m.objs {
		s[k] = bytes.Clone(v)
	}
	return s
}

func (m *memBackend) restore(s map[string][]byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objs = make(map[string][]byte, len(s))
	for k, v := range s {
		m.objs[k] = bytes.Clone(v)
	}
}

// errCrash is what faultBackend returns once it has "crashed".
var errCrash = errors.New("injected crash")

// faultBackend passes operations to a backend until `left` writes (Put or
// Delete) have been done; the next write fails, and so does every operation
// after it, as if the process had died there. With writeThenFail the failing
// Put stores its object first (the write reached storage but the process
// died before hearing so).
type faultBackend struct {
	storage.Backend
	mu            sync.Mutex
	left          int
	writeThenFail bool
	crashed       bool
	writes        int
}

func (f *faultBackend) before(write bool) (crashNow bool, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.crashed {
		return false, errCrash
	}
	if !write {
		return false, nil
	}
	if f.left == 0 {
		f.crashed = true
		return true, errCrash
	}
	f.left--
	f.writes++
	return false, nil
}

func (f *faultBackend) Put(ctx context.Context, name string, r io.Reader, size int64) error {
	crashNow, err := f.before(true)
	if crashNow && f.writeThenFail {
		_ = f.Backend.Put(ctx, name, r, size)
	}
	if err != nil {
		return err
	}
	return f.Backend.Put(ctx, name, r, size)
}

func (f *faultBackend) Delete(ctx context.Context, name string) error {
	crashNow, err := f.before(true)
	if crashNow && f.writeThenFail {
		_ = f.Backend.Delete(ctx, name)
	}
	if err != nil {
		return err
	}
	return f.Backend.Delete(ctx, name)
}

func (f *faultBackend) Get(ctx context.Context, name string) (io.ReadCloser, error) {
	if _, err := f.before(false); err != nil {
		return nil, err
	}
	return f.Backend.Get(ctx, name)
}

func (f *faultBackend) GetRange(ctx context.Context, name string, off, length int64) (io.ReadCloser, error) {
	if _, err := f.before(false); err != nil {
		return nil, err
	}
	return f.Backend.GetRange(ctx, name, off, length)
}

func (f *faultBackend) Stat(ctx context.Context, name string) (int64, error) {
	if _, err := f.before(false); err != nil {
		return 0, err
	}
	return f.Backend.Stat(ctx, name)
}

func (f *faultBackend) List(ctx context.Context, prefix string, fn func(string, int64) error) error {
	if _, err := f.before(false); err != nil {
		return err
	}
	return f.Backend.List(ctx, prefix, fn)
}

// countingBackend counts writes.
type countingBackend struct {
	storage.Backend
	mu     sync.Mutex
	writes int
}

func (c *countingBackend) Put(ctx context.Context, name string, r io.Reader, size int64) error {
	c.mu.Lock()
	c.writes++
	c.mu.Unlock()
	return c.Backend.Put(ctx, name, r, size)
}

func (c *countingBackend) Delete(ctx context.Context, name string) error {
	c.mu.Lock()
	c.writes++
	c.mu.Unlock()
	return c.Backend.Delete(ctx, name)
}

// listAll returns every object name and size of a backend, sorted by name.
func listAll(t testing.TB, be storage.Backend) ([]string, map[string]int64) {
	t.Helper()
	sizes := map[string]int64{}
	var names []string
	if err := be.List(context.Background(), "", func(n string, s int64) error {
		names = append(names, n)
		sizes[n] = s
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	return names, sizes
}

func totalBytes(t testing.TB, be storage.Backend) int64 {
	_, sizes := listAll(t, be)
	var n int64
	for _, s := range sizes {
		n += s
	}
	return n
}

// randBytes returns n pseudo-random (incompressible) bytes from seed.
func randBytes(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := rng.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	for i := n &^ 7; i < n; i++ {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// textBytes returns n compressible bytes from seed.
func textBytes(seed uint64, n int) []byte {
	words := []string{"painel", "backup", "chunk", "pack", "índice", "sqlite", "página", "dados", "cliente", "pedido", "valor", "2026"}
	rng := rand.New(rand.NewPCG(seed, 7))
	var b bytes.Buffer
	for b.Len() < n {
		b.WriteString(words[rng.IntN(len(words))])
		b.WriteByte(" \n,;"[rng.IntN(4)])
	}
	return b.Bytes()[:n]
}

func mustInit(t testing.TB, be storage.Backend, o Options) *Repo {
	t.Helper()
	r, err := Init(context.Background(), be, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustOpen(t testing.TB, be storage.Backend, o Options) *Repo {
	t.Helper()
	r, err := Open(context.Background(), be, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustPut(t testing.TB, r *Repo, data []byte) ID {
	t.Helper()
	id, _, err := r.Put(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func mustFlush(t testing.TB, r *Repo) {
	t.Helper()
	if err := r.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func checkGet(t testing.TB, r *Repo, id ID, want []byte) {
	t.Helper()
	got, err := r.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("Get %s: %v", id, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Get %s: %d bytes differ from the %d put", id, len(got), len(want))
	}
}

func mustVerifyClean(t testing.TB, r *Repo, readData bool) VerifyReport {
	t.Helper()
	rep, err := r.Verify(context.Background(), readData)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if len(rep.Problems) > 0 {
		t.Fatalf("Verify(readData=%v) found problems:\n%s", readData, strings.Join(rep.Problems, "\n"))
	}
	return rep
}

// backends runs f on a fresh memBackend and a fresh storage.Local.
func backends(t *testing.T, f func(t *testing.T, be storage.Backend)) {
	t.Run("mem", func(t *testing.T) { f(t, newMem()) })
	t.Run("local", func(t *testing.T) {
		l, err := storage.OpenLocal(filepath.Join(t.TempDir(), "repo"))
		if err != nil {
			t.Fatal(err)
		}
		f(t, l)
	})
}

// modes runs f without and with encryption.
func modes(t *testing.T, f func(t *testing.T, pass string)) {
	t.Run("plain", func(t *testing.T) { f(t, "") })
	t.Run("encrypted", func(t *testing.T) { f(t, "correct horse battery staple") })
}
