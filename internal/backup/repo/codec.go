package repo

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Flags of a blob (in index and pack header entries) and of an envelope.
const (
	flagZstd      = 1 << 0 // the payload is a zstd frame
	flagEncrypted = 1 << 1 // the payload is nonce || AES-256-GCM ciphertext || tag
	knownFlags    = flagZstd | flagEncrypted
)

const (
	nonceSize = 12
	tagSize   = 16
	sumSize   = sha256.Size

	// maxObject bounds what one envelope may decompress to (manifests of
	// large trees are the biggest).
	maxObject = 1 << 30
	// maxFrameSize bounds the plaintext of a frame (and so a chunk's inner
	// offset plus length).
	maxFrameSize = 1 << 30
)

var (
	encodersMu sync.Mutex
	encoders   = map[zstd.EncoderLevel]*zstd.Encoder{}

	decoderOnce sync.Once
	decoder     *zstd.Decoder
)

// encoderFor returns the shared encoder of a level. EncodeAll is safe for
// concurrent use and starts no goroutine.
func encoderFor(level zstd.EncoderLevel) *zstd.Encoder {
	encodersMu.Lock()
	defer encodersMu.Unlock()
	if e, ok := encoders[level]; ok {
		return e
	}
	e, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(level),
		zstd.WithEncoderCRC(false), // every payload is covered by SHA-256 or GCM already
		// A window the size of a frame: matches never reach further back than a frame's
		// start anyway, and the default (8 MiB) gave each encoder 16 MiB of history to
		// allocate and fault in, for the same output.
		zstd.WithWindowSize(DefaultFrameSize),
		zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)),
		zstd.WithZeroFrames(true))
	if err != nil {
		panic(err) // only invalid options fail
	}
	encoders[level] = e
	return e
}

// sharedDecoder returns the process-wide zstd decoder; DecodeAll is safe for
// concurrent use.
func sharedDecoder() *zstd.Decoder {
	decoderOnce.Do(func() {
		d, err := zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(runtime.GOMAXPROCS(0)),
			zstd.WithDecoderMaxMemory(maxObject))
		if err != nil {
			panic(err)
		}
		decoder = d
	})
	return decoder
}

// codec compresses, encrypts and checks blobs and envelopes.
type codec struct {
	aead cipher.AEAD // nil: not encrypted
	enc  *zstd.Encoder
	dec  *zstd.Decoder
}

func newCodec(masterKey []byte, level zstd.EncoderLevel) (*codec, error) {
	c := &codec{enc: encoderFor(level), dec: sharedDecoder()}
	if masterKey != nil {
		a, err := newAEAD(masterKey)
		if err != nil {
			return nil, err
		}
		c.aead = a
	}
	return c, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

func (c *codec) encrypted() bool { return c.aead != nil }

// sealAEAD returns nonce || Seal(plain) with a fresh random nonce.
func sealAEAD(a cipher.AEAD, plain, ad []byte) []byte {
	out := make([]byte, nonceSize, nonceSize+len(plain)+tagSize)
	if _, err := rand.Read(out); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return a.Seal(out, out[:nonceSize], plain, ad)
}

// openAEAD reverses sealAEAD.
func openAEAD(a cipher.AEAD, sealed, ad []byte) ([]byte, error) {
	if len(sealed) < nonceSize+tagSize {
		return nil, errors.New("too short for nonce and tag")
	}
	return a.Open(nil, sealed[:nonceSize], sealed[nonceSize:], ad)
}

// openAEADInPlace is openAEAD decrypting into sealed's own storage.
func openAEADInPlace(a cipher.AEAD, sealed, ad []byte) ([]byte, error) {
	if len(sealed) < nonceSize+tagSize {
		return nil, errors.New("too short for nonce and tag")
	}
	ct := sealed[nonceSize:]
	return a.Open(ct[:0], sealed[:nonceSize], ct, ad)
}

// scratchPool holds buffers for compressed payloads, which Put copies into
// the pack and then returns.
var scratchPool = sync.Pool{New: func() any { return new([]byte) }}

// encodedBlob is a chunk in its stored form: body followed by trailer.
type encodedBlob struct {
	body    []byte // may alias the chunk's data
	trailer []byte
	flags   uint8
	scratch *[]byte // to return with release
}

func (b *encodedBlob) size() int { return len(b.body) + len(b.trailer) }

// take returns the stored bytes (body then trailer) as one slice the caller now owns, and the
// function that gives its buffer back when done (nil when there is none to give back). The
// blob must not be used or released after.
func (b *encodedBlob) take() ([]byte, func()) {
	if b.flags&(flagZstd|flagEncrypted) == 0 {
		// body is the caller's plaintext, which it reuses: copy it.
		out := make([]byte, 0, b.size())
		return append(append(out, b.body...), b.trailer...), nil
	}
	out := append(b.body, b.trailer...)
	sp := b.scratch
	b.scratch, b.body, b.trailer = nil, nil, nil
	if sp == nil {
		return out, nil // sealed by AEAD into a buffer of its own
	}
	*sp = out
	return out, func() { scratchPool.Put(sp) }
}

// release returns the scratch buffer; body is invalid after.
func (b *encodedBlob) release() {
	if b.scratch != nil {
		scratchPool.Put(b.scratch)
		b.scratch = nil
	}
}

// encodeFrame turns a frame (the plaintexts of one or more chunks, one after
// the other) into its stored form: zstd-compressed when that makes it
// smaller, then encrypted, or, unencrypted, followed by a CRC-32C of the
// stored bytes (so that a flipped bit is found even where zstd would ignore
// it, e.g. in padding bits). Compressing the new pages of a database
// together, rather than one 4 KiB page at a time, is what makes them small:
// on the benchmark dataset 128 KiB frames store 0.42 of the bytes where
// single pages store 0.54.
func (c *codec) encodeFrame(data []byte) encodedBlob {
	var eb encodedBlob
	payload := data
	if len(data) > 0 {
		sp := scratchPool.Get().(*[]byte)
		if want := len(data)*5/8 + 1024; cap(*sp) < want {
			// Room for most frames at once (pages compress to about 0.42): growing an
			// empty buffer block by block took 5% of an incremental backup's CPU.
			*sp = make([]byte, 0, want)
		}
		z := c.enc.EncodeAll(data, (*sp)[:0])
		*sp = z
		if len(z) < len(data) {
			payload = z
			eb.flags |= flagZstd
			eb.scratch = sp
		} else {
			scratchPool.Put(sp)
		}
	}
	if c.aead != nil {
		eb.flags |= flagEncrypted
		eb.body = sealAEAD(c.aead, payload, frameAD)
		eb.release()
		return eb
	}
	eb.body = payload
	eb.trailer = binary.LittleEndian.AppendUint32(make([]byte, 0, crcSize), crc32.Checksum(payload, crcTable))
	return eb
}

// frameAD is the additional data of an encrypted frame. A frame holds
// several chunks, so it is not bound to one chunk ID: what binds a chunk to
// its bytes is the SHA-256 check of every chunk read (extract), and the tag
// still makes any change to a frame's bytes fail decryption.
var frameAD = []byte("painel-backup frame")

const crcSize = 4

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// decodeFrame reverses encodeFrame: it checks the tag (or the CRC) and
// decompresses. With owned, stored is the caller's to overwrite: an encrypted
// frame is decrypted in place (the result may alias stored) instead of into a
// new buffer of its size.
func (c *codec) decodeFrame(stored []byte, flags uint8, loan *Loan, owned bool) ([]byte, error) {
	if flags&^knownFlags != 0 {
		return nil, fmt.Errorf("unknown flags %#x", flags)
	}
	if (flags&flagEncrypted != 0) != c.encrypted() {
		if c.encrypted() {
			return nil, errors.New("stored unencrypted in an encrypted repository")
		}
		return nil, errors.New("stored encrypted in an unencrypted repository")
	}
	var payload []byte
	if c.aead != nil {
		open := openAEAD
		if owned {
			open = openAEADInPlace
		}
		p, err := open(c.aead, stored, frameAD)
		if err != nil {
			return nil, fmt.Errorf("decryption failed (authentication tag mismatch): %v", err)
		}
		payload = p
	} else {
		if len(stored) < crcSize {
			return nil, fmt.Errorf("%d bytes, too short for its checksum", len(stored))
		}
		payload = stored[:len(stored)-crcSize]
		if crc32.Checksum(payload, crcTable) != binary.LittleEndian.Uint32(stored[len(payload):]) {
			return nil, errors.New("CRC-32C of the stored bytes does not match (damaged)")
		}
	}
	if flags&flagZstd == 0 {
		return payload, nil
	}
	// A big frame goes into a buffer the loan lends; else DecodeAll allocates the size the
	// frame's header gives.
	var dst []byte
	if loan != nil {
		var h zstd.Header
		if h.Decode(payload) == nil && h.HasFCS && h.FrameContentSize >= loanMin && h.FrameContentSize <= loanBufSize-loanSlack {
			dst = loan.buffer()
		}
	}
	d, err := c.dec.DecodeAll(payload, dst)
	if err != nil {
		return nil, fmt.Errorf("decompression failed: %v", err)
	}
	return d, nil
}

// extract returns chunk e's plaintext from its decoded frame and checks it
// against the chunk ID. The result aliases frame.
func extract(frame []byte, e packEntry) ([]byte, error) {
	end := uint64(e.inner) + uint64(e.plain)
	if end > uint64(len(frame)) {
		return nil, fmt.Errorf("chunk at [%d,%d) of its frame, which has %d bytes", e.inner, end, len(frame))
	}
	data := frame[e.inner:end:end]
	if Hash(data) != e.id {
		return nil, errors.New("SHA-256 of the content does not match the chunk ID")
	}
	return data, nil
}

// decodeBlob decodes the frame stored holds and returns chunk e from it.
func (c *codec) decodeBlob(stored []byte, e packEntry) ([]byte, error) {
	frame, err := c.decodeFrame(stored, e.flags, nil, false)
	if err != nil {
		return nil, err
	}
	return extract(frame, e)
}

// frameMemo remembers the last frame decoded from one pack (or one range of
// it), so that the chunks of a frame, which sit next to each other in
// offset order, decode it once.
type frameMemo struct {
	c      *codec
	loan   *Loan // when set, frames are decoded into buffers it lends
	ok     bool
	off    uint32
	length uint32
	frame  []byte
	err    error
}

// blob returns chunk e, whose frame's stored bytes are stored.
func (m *frameMemo) blob(stored []byte, e packEntry) ([]byte, error) {
	if !m.ok || m.off != e.off || m.length != e.length {
		m.frame, m.err = m.c.decodeFrame(stored, e.flags, m.loan, false)
		m.ok, m.off, m.length = true, e.off, e.length
	}
	if m.err != nil {
		return nil, m.err
	}
	return extract(m.frame, e)
}

// Envelope kinds (the fourth byte of the magic).
const (
	kindConfig     = 'C'
	kindKey        = 'K'
	kindIndex      = 'I'
	kindManifest   = 'M'
	kindPackHeader = 'H'

	envVersion   = 1
	envHeaderLen = 6
)

// seal wraps payload in an envelope (see doc.go): header, body (compressed
// if that shrinks it, encrypted if encrypt), then a SHA-256 of binding and
// everything before it.
func (c *codec) seal(kind byte, binding string, payload []byte, compress, encrypt bool) []byte {
	hdr := []byte{'P', 'B', 'K', kind, envVersion, 0}
	body := payload
	if compress && len(payload) > 0 {
		z := c.enc.EncodeAll(payload, make([]byte, 0, len(payload)/2))
		// Compressed only when that saves at least an eighth: an index object is mostly
		// SHA-256 IDs, which do not compress, and decoding it would cost every Open for
		// a few percent of its size.
		if len(z) < len(payload)-len(payload)/8 {
			body = z
			hdr[5] |= flagZstd
		}
	}
	if encrypt {
		hdr[5] |= flagEncrypted
		body = sealAEAD(c.aead, body, envelopeAD(hdr, binding))
	}
	out := make([]byte, 0, len(hdr)+len(body)+sumSize)
	out = append(out, hdr...)
	out = append(out, body...)
	sum := envelopeSum(binding, out)
	return append(out, sum[:]...)
}

func envelopeAD(hdr []byte, binding string) []byte {
	ad := make([]byte, 0, len(hdr)+len(binding))
	ad = append(ad, hdr...)
	return append(ad, binding...)
}

func envelopeSum(binding string, content []byte) [sumSize]byte {
	h := sha256.New()
	h.Write([]byte(binding))
	h.Write([]byte{0})
	h.Write(content)
	var s [sumSize]byte
	h.Sum(s[:0])
	return s
}

// open checks and unwraps an envelope made by seal. encrypted says whether
// the body must be encrypted (it must match the repository). Errors wrap
// ErrCorrupt but do not name the object: callers add that.
func (c *codec) open(kind byte, binding string, obj []byte, encrypted bool) ([]byte, error) {
	if len(obj) < envHeaderLen+sumSize {
		return nil, corruptf("%d bytes, too short", len(obj))
	}
	content := obj[:len(obj)-sumSize]
	if s := envelopeSum(binding, content); string(s[:]) != string(obj[len(obj)-sumSize:]) {
		return nil, corruptf("checksum mismatch")
	}
	hdr := content[:envHeaderLen]
	if hdr[0] != 'P' || hdr[1] != 'B' || hdr[2] != 'K' || hdr[3] != kind {
		return nil, corruptf("bad magic %q, want %q", hdr[:4], "PBK"+string(rune(kind)))
	}
	if hdr[4] != envVersion {
		return nil, corruptf("unsupported format version %d", hdr[4])
	}
	flags := hdr[5]
	if flags&^knownFlags != 0 {
		return nil, corruptf("unknown flags %#x", flags)
	}
	if (flags&flagEncrypted != 0) != encrypted {
		if encrypted {
			return nil, corruptf("not encrypted, but the repository is")
		}
		return nil, corruptf("encrypted, but the repository is not")
	}
	body := content[envHeaderLen:]
	if encrypted {
		p, err := openAEAD(c.aead, body, envelopeAD(hdr, binding))
		if err != nil {
			return nil, corruptf("decryption failed (authentication tag mismatch)")
		}
		body = p
	}
	if flags&flagZstd != 0 {
		d, err := c.dec.DecodeAll(body, nil)
		if err != nil {
			return nil, corruptf("decompression failed: %v", err)
		}
		body = d
	}
	return body, nil
}
