package storage

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/minio/minio-go/v7"
)

var bucketSeq atomic.Int64

// newBucket returns a bucket name not used yet in this test run.
func newBucket() string { return fmt.Sprintf("painel-test-%d", bucketSeq.Add(1)) }

func openTestS3(t *testing.T, v *versitygw, bucket, prefix string, tr http.RoundTripper) *S3 {
	t.Helper()
	be, err := OpenS3(context.Background(), S3Config{
		Endpoint:  v.Endpoint,
		Bucket:    bucket,
		Prefix:    prefix,
		AccessKey: v.AccessKey,
		SecretKey: v.SecretKey,
		Transport: tr,
	})
	if err != nil {
		t.Fatalf("OpenS3: %v", err)
	}
	t.Cleanup(func() { be.Close() })
	return be
}

func TestS3Backend(t *testing.T) {
	v := startVersitygw(t)
	for _, prefix := range []string{"", "backups/site-1/"} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			testBackend(t, func(t *testing.T) Backend {
				return openTestS3(t, v, newBucket(), prefix, nil)
			})
		})
	}
}

// recorder keeps the headers of every request the S3 client sends.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	method, path, query string
	header              http.Header
	length              int64
	chunked             bool
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, recorded{
		method:  req.Method,
		path:    req.URL.Path,
		query:   req.URL.RawQuery,
		header:  req.Header.Clone(),
		length:  req.ContentLength,
		chunked: len(req.TransferEncoding) > 0,
	})
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

func (r *recorder) take() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	reqs := r.reqs
	r.reqs = nil
	return reqs
}

// TestS3UploadFraming checks that what versitygw stores is exactly the
// object's bytes (the bug of servers that keep multipart or aws-chunked
// framing), and that the client sends every object as one plain PUT.
func TestS3UploadFraming(t *testing.T) {
	v := startVersitygw(t)
	// Spool objects over 1 MiB of unknown size to a file, to cover that path.
	old := spoolMemory
	spoolMemory = 1 << 20
	t.Cleanup(func() { spoolMemory = old })

	tr, err := minio.DefaultTransport(false)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{next: tr}
	bucket := newBucket()
	be := openTestS3(t, v, bucket, "pre/fix", rec)
	rec.take()

	for _, tc := range []struct {
		name string
		data []byte
		size int64
	}{
		{"packs/ab/known-20m", randBytes(7, 20<<20), 20 << 20},
		{"packs/ab/unknown-20m", randBytes(8, 20<<20), -1},
		{"packs/ab/unknown-small", randBytes(9, 1000), -1},
		{"packs/ab/exactly-spool", randBytes(10, 1<<20), -1},
		{"config", []byte("small"), 5},
		{"empty", nil, 0},
	} {
		mustPut(t, be, tc.name, tc.data, tc.size)
		reqs := rec.take()
		puts := 0
		for _, r := range reqs {
			if r.method == http.MethodPut {
				puts++
				if r.length != int64(len(tc.data)) || r.chunked {
					t.Errorf("%s: PUT with Content-Length %d (chunked %v), want %d", tc.name, r.length, r.chunked, len(tc.data))
				}
				if r.header.Get("Content-Md5") == "" {
					t.Errorf("%s: PUT without Content-MD5", tc.name)
				}
			}
			if sha := r.header.Get("X-Amz-Content-Sha256"); strings.HasPrefix(sha, "STREAMING-") {
				t.Errorf("%s: %s with streaming signature %s", tc.name, r.method, sha)
			}
			if enc := r.header.Get("Content-Encoding"); strings.Contains(enc, "aws-chunked") {
				t.Errorf("%s: %s with Content-Encoding %s", tc.name, r.method, enc)
			}
			for _, h := range []string{"X-Amz-Trailer", "X-Amz-Decoded-Content-Length"} {
				if r.header.Get(h) != "" {
					t.Errorf("%s: %s with %s", tc.name, r.method, h)
				}
			}
			if strings.Contains(r.query, "uploads") || strings.Contains(r.query, "uploadId") {
				t.Errorf("%s: multipart request %s ?%s", tc.name, r.method, r.query)
			}
		}
		if puts != 1 {
			t.Errorf("%s: %d PUT requests, want 1", tc.name, puts)
		}
		// The file versitygw wrote holds exactly the object.
		onDisk, err := os.ReadFile(filepath.Join(v.Dir, bucket, "pre", "fix", filepath.FromSlash(tc.name)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(onDisk, tc.data) {
			t.Fatalf("%s: the server stored %d bytes, not the %d written (first difference at %d)", tc.name, len(onDisk), len(tc.data), firstDiff(onDisk, tc.data))
		}
		if got := mustGet(t, be, tc.name); !bytes.Equal(got, tc.data) {
			t.Fatalf("%s: read back %d bytes that differ from the %d written (first difference at %d)", tc.name, len(got), len(tc.data), firstDiff(got, tc.data))
		}
	}
}

func TestS3Prefixes(t *testing.T) {
	v := startVersitygw(t)
	bucket := newBucket()
	root := openTestS3(t, v, bucket, "", nil)
	p1 := openTestS3(t, v, bucket, "/site-1/", nil)
	p2 := openTestS3(t, v, bucket, "site-2", nil)
	for i, be := range []Backend{root, p1, p2} {
		mustPut(t, be, "config", []byte{byte('0' + i)}, 1)
	}
	for i, be := range []Backend{root, p1, p2} {
		if got := mustGet(t, be, "config"); string(got) != string(rune('0'+i)) {
			t.Fatalf("backend %d reads %q", i, got)
		}
	}
	if names := listAll(t, p1, ""); fmt.Sprint(names) != "[config]" {
		t.Fatalf("prefixed List: %v", names)
	}
	if names := listAll(t, root, ""); fmt.Sprint(names) != "[config site-1/config site-2/config]" {
		t.Fatalf("List without a prefix: %v", names)
	}
	if err := p1.Delete(context.Background(), "config"); err != nil {
		t.Fatal(err)
	}
	if names := listAll(t, root, ""); fmt.Sprint(names) != "[config site-2/config]" {
		t.Fatalf("List after a prefixed Delete: %v", names)
	}
	if loc := p1.Location(); loc != "s3 http://"+v.Endpoint+"/"+bucket+"/site-1/" {
		t.Fatalf("Location = %q", loc)
	}
}

func TestOpenS3(t *testing.T) {
	v := startVersitygw(t)
	ctx := context.Background()
	bucket := newBucket()
	cfg := S3Config{Endpoint: v.Endpoint, Bucket: bucket, AccessKey: v.AccessKey, SecretKey: v.SecretKey}

	// The bucket is created, and opening it again works.
	be, err := OpenS3(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	be.Close()
	if fi, err := os.Stat(filepath.Join(v.Dir, bucket)); err != nil || !fi.IsDir() {
		t.Fatalf("bucket folder: %v", err)
	}
	be, err = OpenS3(ctx, cfg)
	if err != nil {
		t.Fatalf("second OpenS3: %v", err)
	}
	if strings.Contains(be.Location(), v.SecretKey) || strings.Contains(be.Location(), v.AccessKey) {
		t.Fatalf("Location %q shows credentials", be.Location())
	}
	be.Close()

	// Wrong credentials and bad configurations fail clearly.
	bad := cfg
	bad.SecretKey = "wrong-secret-key"
	if _, err := OpenS3(ctx, bad); err == nil {
		t.Fatal("OpenS3 with a wrong secret: no error")
	} else if strings.Contains(err.Error(), bad.SecretKey) {
		t.Fatalf("error shows the secret: %v", err)
	}
	for _, c := range []S3Config{
		{Bucket: "b"},
		{Endpoint: "http://" + v.Endpoint, Bucket: "b"},
		{Endpoint: v.Endpoint},
	} {
		if _, err := OpenS3(ctx, c); err == nil {
			t.Fatalf("OpenS3(%+v): no error", c)
		}
	}
}
