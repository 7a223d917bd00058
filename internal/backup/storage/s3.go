package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config says where an S3 backend keeps its objects.
type S3Config struct {
	// Endpoint is the server's host:port, without scheme (e.g.
	// "s3.amazonaws.com" or "127.0.0.1:7070").
	Endpoint string
	// Bucket holds the objects; OpenS3 creates it if it is missing.
	Bucket string
	// Prefix, if not empty, is put before every object name ("a/b" gives
	// the keys "a/b/<name>"); leading and trailing slashes are ignored.
	Prefix string
	// AccessKey and SecretKey sign the requests (AWS signature v4).
	AccessKey, SecretKey string
	// Region is the bucket's region; empty lets the client find out (and
	// creates new buckets in us-east-1).
	Region string
	// UseSSL selects https instead of http.
	UseSSL bool
	// Transport, if not nil, carries the HTTP requests (custom TLS roots,
	// proxies, tests); nil uses minio-go's default transport.
	Transport http.RoundTripper
}

// MaxS3ObjectSize is the largest object the S3 backend stores: the limit of
// one S3 PUT request (5 GiB). The backend never uses multipart uploads
// (see S3).
const MaxS3ObjectSize = 5 << 30

// spoolMemory is the largest object that Put buffers in memory; larger
// ones are spooled to a temporary file first. A variable for the tests.
var spoolMemory int64 = 64 << 20

// S3 is a Backend on an S3-compatible bucket, through minio-go v7. Object
// name n is the key Prefix + "/" + n (or n without a prefix).
//
// How objects are uploaded, so that what the server stores is exactly the
// object's bytes: some S3 servers have stored the framing of
// multipart or aws-chunked ("STREAMING-AWS4-HMAC-SHA256-PAYLOAD") uploads
// as part of the object. Put therefore
//
//   - reads the whole object first (into memory up to 64 MiB, else into a
//     temporary file), so that its size is known and checked against the
//     announced one, a failing reader never reaches the server, and the
//     body is seekable so that minio-go can retry a failed request;
//   - sends it as ONE plain PUT request with a Content-Length
//     (DisableMultipart: no multipart upload, whatever the size; objects
//     over MaxS3ObjectSize are refused);
//   - with DisableContentSha256, so minio-go signs the payload as
//     "UNSIGNED-PAYLOAD" instead of using the aws-chunked streaming
//     signature it uses by default over plain http; TrailingHeaders stays
//     off, so no checksum trailer (which also needs aws-chunked framing) is
//     sent either;
//   - with SendContentMd5, so the request carries a Content-MD5 header and
//     the server rejects a body damaged in transit.
//
// A single PUT is atomic on S3: readers see the old object or the new one.
type S3 struct {
	client    *minio.Client
	core      minio.Core
	transport http.RoundTripper
	bucket    string
	prefix    string // "" or ending with "/"
	location  string
}

var _ Backend = (*S3)(nil)

// OpenS3 connects to the S3 server of cfg and creates the bucket if it does
// not exist.
func OpenS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if cfg.Endpoint == "" {
		return nil, errors.New("storage: s3: no endpoint")
	}
	if strings.Contains(cfg.Endpoint, "://") {
		return nil, fmt.Errorf("storage: s3: endpoint %q must be host:port, without a scheme (use UseSSL for https)", cfg.Endpoint)
	}
	if cfg.Bucket == "" {
		return nil, errors.New("storage: s3: no bucket")
	}
	tr := cfg.Transport
	if tr == nil {
		t, err := minio.DefaultTransport(cfg.UseSSL)
		if err != nil {
			return nil, fmt.Errorf("storage: s3: %w", err)
		}
		tr = t
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:     credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:    cfg.UseSSL,
		Region:    cfg.Region,
		Transport: tr,
		// No checksum trailers: they need the aws-chunked body framing.
		TrailingHeaders: false,
	})
	if err != nil {
		return nil, fmt.Errorf("storage: s3 %s: %w", cfg.Endpoint, err)
	}
	prefix := strings.Trim(cfg.Prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	scheme := "http"
	if cfg.UseSSL {
		scheme = "https"
	}
	s := &S3{
		client:    client,
		core:      minio.Core{Client: client},
		transport: tr,
		bucket:    cfg.Bucket,
		prefix:    prefix,
		location:  fmt.Sprintf("s3 %s://%s/%s/%s", scheme, cfg.Endpoint, cfg.Bucket, prefix),
	}
	if err := s.ensureBucket(ctx, cfg.Region); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *S3) ensureBucket(ctx context.Context, region string) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("storage: s3 %s: bucket %s: %w", s.client.EndpointURL().Host, s.bucket, err)
	}
	if ok {
		return nil
	}
	err = s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: region})
	if err != nil {
		code := minio.ToErrorResponse(err).Code
		if code == minio.BucketAlreadyOwnedByYou {
			return nil // created meanwhile by someone with our credentials
		}
		return fmt.Errorf("storage: s3 %s: create bucket %s: %w", s.client.EndpointURL().Host, s.bucket, err)
	}
	return nil
}

// Location returns "s3 <scheme>://<endpoint>/<bucket>/<prefix>"; it holds
// no credentials.
func (s *S3) Location() string { return s.location }

// Close drops the idle connections of the backend's transport.
func (s *S3) Close() error {
	if t, ok := s.transport.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
	return nil
}

func (s *S3) key(name string) string { return s.prefix + name }

// s3Err wraps a minio-go error, mapping a missing key to ErrNotExist and an
// unsatisfiable range to ErrInvalidRange.
func s3Err(op, name string, err error) error {
	switch minio.ToErrorResponse(err).Code {
	case minio.NoSuchKey, "NotFound":
		return fmt.Errorf("storage: s3 %s %s: %w", op, name, ErrNotExist)
	case minio.InvalidRange:
		return fmt.Errorf("storage: s3 %s %s: %w (%v)", op, name, ErrInvalidRange, err)
	}
	return fmt.Errorf("storage: s3 %s %s: %w", op, name, err)
}

// Put uploads the object in one plain PUT request (see S3). When size >= 0
// the reader must yield exactly size bytes, otherwise nothing is stored.
func (s *S3) Put(ctx context.Context, name string, r io.Reader, size int64) error {
	if err := CheckName(name); err != nil {
		return err
	}
	body, err := spool(ctx, r, size)
	if err != nil {
		return fmt.Errorf("storage: s3 put %s: %w", name, err)
	}
	defer body.close()
	_, err = s.client.PutObject(ctx, s.bucket, s.key(name), body.r, body.n, minio.PutObjectOptions{
		ContentType:          "application/octet-stream",
		DisableMultipart:     true,
		DisableContentSha256: true,
		SendContentMd5:       true,
	})
	if err != nil {
		return s3Err("put", name, err)
	}
	return nil
}

// spooled is an object read in full before upload.
type spooled struct {
	r    io.ReadSeeker // *bytes.Reader or *os.File, at offset 0
	n    int64
	file *os.File // temporary file to remove, or nil
}

func (b *spooled) close() {
	if b.file != nil {
		b.file.Close()
		os.Remove(b.file.Name())
	}
}

// spool reads r to the end (checking it yields size bytes when size >= 0)
// into memory, or into a temporary file beyond spoolMemory bytes.
func spool(ctx context.Context, r io.Reader, size int64) (*spooled, error) {
	if size > MaxS3ObjectSize {
		return nil, fmt.Errorf("object of %d bytes is larger than the %d bytes of one S3 PUT", size, int64(MaxS3ObjectSize))
	}
	src := io.Reader(ctxReader{ctx, r})
	if size >= 0 {
		src = io.LimitReader(src, size+1) // one more byte reveals a longer stream
	} else {
		src = io.LimitReader(src, MaxS3ObjectSize+1)
	}
	check := func(n int64) error {
		if size >= 0 && n != size {
			return fmt.Errorf("reader gave %s bytes, announced %d", countDesc(n, size), size)
		}
		if n > MaxS3ObjectSize {
			return fmt.Errorf("object is larger than the %d bytes of one S3 PUT", int64(MaxS3ObjectSize))
		}
		return nil
	}
	var buf bytes.Buffer
	if size >= 0 && size <= spoolMemory {
		buf.Grow(int(size) + 1)
	}
	var n int64
	var err error
	if size < 0 || size <= spoolMemory {
		n, err = io.Copy(&buf, io.LimitReader(src, spoolMemory+1))
		if err != nil {
			return nil, err
		}
		if n <= spoolMemory {
			if err := check(n); err != nil {
				return nil, err
			}
			return &spooled{r: bytes.NewReader(buf.Bytes()), n: n}, nil
		}
	}
	// Too big for memory: continue into a temporary file.
	f, err := os.CreateTemp("", "painel-s3-put-*")
	if err != nil {
		return nil, err
	}
	b := &spooled{r: f, file: f}
	if _, err := f.Write(buf.Bytes()); err != nil {
		b.close()
		return nil, err
	}
	m, err := io.Copy(f, src)
	if err != nil {
		b.close()
		return nil, err
	}
	b.n = n + m
	if err := check(b.n); err != nil {
		b.close()
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		b.close()
		return nil, err
	}
	return b, nil
}

// Get downloads the whole object.
func (s *S3) Get(ctx context.Context, name string) (io.ReadCloser, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	body, info, _, err := s.core.GetObject(ctx, s.bucket, s.key(name), minio.GetObjectOptions{})
	if err != nil {
		return nil, s3Err("get", name, err)
	}
	return &exactReader{rc: body, left: info.Size, name: name}, nil
}

// GetRange downloads length bytes of the object from off with a ranged GET
// (see the package documentation for ranges past the end). It checks that
// the server answered with the range asked for.
func (s *S3) GetRange(ctx context.Context, name string, off, length int64) (io.ReadCloser, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	if err := checkRange(off, length); err != nil {
		return nil, fmt.Errorf("storage: s3 get range %s: %w", name, err)
	}
	if length == 0 {
		// HTTP cannot ask for zero bytes; check the object and offset.
		size, err := s.Stat(ctx, name)
		if err != nil {
			return nil, err
		}
		if off > size {
			return nil, fmt.Errorf("storage: s3 get range %s: offset %d of a %d-byte object: %w", name, off, size, ErrInvalidRange)
		}
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	var opts minio.GetObjectOptions
	if err := opts.SetRange(off, off+length-1); err != nil {
		return nil, fmt.Errorf("storage: s3 get range %s: %w", name, err)
	}
	body, info, hdr, err := s.core.GetObject(ctx, s.bucket, s.key(name), opts)
	if err != nil {
		return nil, s3Err("get range", name, err)
	}
	cr := hdr.Get("Content-Range")
	if cr == "" {
		// A whole object instead of a range: servers answer so for a range
		// on an empty object.
		body.Close()
		if info.Size == 0 {
			return nil, fmt.Errorf("storage: s3 get range %s: offset %d of a 0-byte object: %w", name, off, ErrInvalidRange)
		}
		return nil, fmt.Errorf("storage: s3 get range %s: the server ignored the range (no Content-Range)", name)
	}
	start, end, total, err := parseContentRange(cr)
	if err != nil || start != off || end < start || end > off+length-1 || end-start+1 != info.Size {
		body.Close()
		return nil, fmt.Errorf("storage: s3 get range %s: asked bytes %d-%d, server sent Content-Range %q with %d bytes", name, off, off+length-1, cr, info.Size)
	}
	if end != off+length-1 && end != total-1 {
		body.Close()
		return nil, fmt.Errorf("storage: s3 get range %s: asked bytes %d-%d, server sent Content-Range %q (short, but not at the end)", name, off, off+length-1, cr)
	}
	return &exactReader{rc: body, left: info.Size, name: name}, nil
}

// parseContentRange parses "bytes START-END/TOTAL".
func parseContentRange(s string) (start, end, total int64, err error) {
	bad := fmt.Errorf("bad Content-Range %q", s)
	rest, ok := strings.CutPrefix(s, "bytes ")
	if !ok {
		return 0, 0, 0, bad
	}
	rng, tot, ok := strings.Cut(rest, "/")
	if !ok {
		return 0, 0, 0, bad
	}
	a, b, ok := strings.Cut(rng, "-")
	if !ok {
		return 0, 0, 0, bad
	}
	if start, err = strconv.ParseInt(a, 10, 64); err != nil {
		return 0, 0, 0, bad
	}
	if end, err = strconv.ParseInt(b, 10, 64); err != nil {
		return 0, 0, 0, bad
	}
	if total, err = strconv.ParseInt(tot, 10, 64); err != nil {
		return 0, 0, 0, bad
	}
	return start, end, total, nil
}

// exactReader reads a response body that must hold exactly left bytes: it
// turns an early end into io.ErrUnexpectedEOF and never reads past left.
type exactReader struct {
	rc   io.ReadCloser
	left int64
	name string
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.rc.Read(p)
	e.left -= int64(n)
	if err == io.EOF {
		if e.left > 0 {
			return n, fmt.Errorf("storage: s3 read %s: %w (%d bytes missing)", e.name, io.ErrUnexpectedEOF, e.left)
		}
		return n, io.EOF
	}
	if err != nil {
		return n, fmt.Errorf("storage: s3 read %s: %w", e.name, err)
	}
	return n, nil
}

func (e *exactReader) Close() error { return e.rc.Close() }

// Stat returns the object's size (a HEAD request).
func (s *S3) Stat(ctx context.Context, name string) (int64, error) {
	if err := CheckName(name); err != nil {
		return 0, err
	}
	info, err := s.client.StatObject(ctx, s.bucket, s.key(name), minio.StatObjectOptions{})
	if err != nil {
		return 0, s3Err("stat", name, err)
	}
	return info.Size, nil
}

// List lists the keys under Prefix+prefix (recursively) and calls fn with
// each name, the backend's Prefix removed. Keys that are not valid object
// names (folder markers, objects left by other tools) are skipped.
func (s *S3) List(ctx context.Context, prefix string, fn func(name string, size int64) error) error {
	if err := checkPrefix(prefix); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops minio-go's listing goroutine when fn fails
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.key(prefix), Recursive: true}) {
		if obj.Err != nil {
			return fmt.Errorf("storage: s3 list %q: %w", prefix, obj.Err)
		}
		name, ok := strings.CutPrefix(obj.Key, s.prefix)
		if !ok || !strings.HasPrefix(name, prefix) || CheckName(name) != nil {
			continue
		}
		if err := fn(name, obj.Size); err != nil {
			return err
		}
	}
	// The channel also closes when ctx is cancelled, without an error.
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("storage: s3 list %q: %w", prefix, err)
	}
	return nil
}

// Delete removes the object; S3 answers success for a missing key too.
func (s *S3) Delete(ctx context.Context, name string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	err := s.client.RemoveObject(ctx, s.bucket, s.key(name), minio.RemoveObjectOptions{})
	if err != nil {
		if errors.Is(s3Err("delete", name, err), ErrNotExist) {
			return nil
		}
		return s3Err("delete", name, err)
	}
	return nil
}
