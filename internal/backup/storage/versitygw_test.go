package storage

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/painel-universal/painel/internal/testenv"
)

// versitygwInstall is how to get the S3 server the S3 tests run against.
const versitygwInstall = "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// missingService skips the test, or fails it under
// PAINEL_REQUIRE_SERVICES=1 (as internal/testenv does).
func missingService(t testing.TB, format string, args ...any) {
	t.Helper()
	if testenv.Required() {
		t.Fatalf("PAINEL_REQUIRE_SERVICES=1 but "+format, args...)
	}
	t.Skipf(format, args...)
}

// findVersitygw returns the versitygw binary: PAINEL_TEST_VERSITYGW, else
// versitygw on PATH, else $(go env GOBIN) or $(go env GOPATH)/bin. Without
// one it skips (or fails) the test.
func findVersitygw(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("PAINEL_TEST_VERSITYGW"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("PAINEL_TEST_VERSITYGW=%s: %v", p, err)
		}
		return p
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	var dirs []string
	if out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output(); err == nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) == 2 {
			if lines[0] != "" {
				dirs = append(dirs, lines[0])
			}
			for _, gp := range filepath.SplitList(lines[1]) {
				dirs = append(dirs, filepath.Join(gp, "bin"))
			}
		}
	}
	for _, d := range dirs {
		p := filepath.Join(d, "versitygw")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p
		}
	}
	missingService(t, "S3 test skipped: install versitygw (%s) or set PAINEL_TEST_VERSITYGW", versitygwInstall)
	return ""
}

// versitygw is a running versitygw server with the posix backend.
type versitygw struct {
	Endpoint  string // 127.0.0.1:port
	AccessKey string
	SecretKey string
	Dir       string // the posix root: bucket b, key k is the file Dir/b/k
}

// startVersitygw starts versitygw on a free 127.0.0.1 port with a new
// temporary folder, waits until it answers, and stops it when the test
// ends.
func startVersitygw(t testing.TB) *versitygw {
	t.Helper()
	bin := findVersitygw(t)
	secret := make([]byte, 24)
	if _, err := rand.Read(secret); err != nil {
		t.Fatal(err)
	}
	v := &versitygw{
		AccessKey: "access" + hex.EncodeToString(secret[:4]),
		SecretKey: hex.EncodeToString(secret[4:]),
		Dir:       t.TempDir(),
	}
	var lastLog string
	// A port found free can be taken before versitygw binds it: try again.
	for range 3 {
		addr, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		v.Endpoint = addr
		ok, log := v.start(t, bin)
		if ok {
			return v
		}
		lastLog = log
	}
	t.Fatalf("versitygw (%s) did not start:\n%s", bin, lastLog)
	return nil
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// syncBuffer collects the server's output for error messages.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// start runs the server on v.Endpoint and waits for it. It reports false
// (with the server's output) if the server exited before answering, and
// fails the test if it neither answers nor exits within a minute.
func (v *versitygw) start(t testing.TB, bin string) (bool, string) {
	t.Helper()
	out := &syncBuffer{}
	cmd := exec.Command(bin, "--port", v.Endpoint, "--quiet", "posix", v.Dir)
	cmd.Env = append(os.Environ(),
		"ROOT_ACCESS_KEY_ID="+v.AccessKey,
		"ROOT_SECRET_ACCESS_KEY="+v.SecretKey,
	)
	cmd.Stdout = out
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	stop := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(time.Minute)
	for {
		select {
		case <-exited:
			return false, out.String()
		default:
		}
		// Any HTTP answer (403 without credentials) means it serves.
		resp, err := client.Get("http://" + v.Endpoint + "/")
		if err == nil {
			resp.Body.Close()
			t.Cleanup(stop)
			return true, ""
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("versitygw on %s did not answer within a minute:\n%s", v.Endpoint, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
