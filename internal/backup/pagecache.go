package backup

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// pageCache lets the backup of a SQLite database skip the SHA-256 of the pages that did not
// change since the parent backup. Like restic's and borg's files caches (which trust a file's
// size, mtime and inode to skip reading it at all), it lives outside the repository, on the
// machine that makes the backups, and only saves work: a missing, stale or damaged entry means
// the pages are hashed.
//
// A backup records a 128-bit fingerprint of every page of every SQLite file it reads: the page's
// GHASH (GCM's polynomial hash, in hardware: ~7 GB/s a core here, against ~1.5 GB/s for
// SHA-256) under a random AES-256 key that never leaves the cache folder. The next backup whose
// parent is that backup fingerprints each page it reads; where the fingerprint equals the
// parent's at the same place in the file, the page is the parent's page and takes its chunk ID,
// neither hashed nor looked up in the index. GHASH is a universal hash: while its key is secret,
// two different pages of n 16-byte blocks share a fingerprint with probability at most
// (n+1)/2^128 (below 2^-115 for SQLite's largest pages), whatever their content, so nobody who
// writes rows into a database can aim for a collision without the key.
//
// An entry binds the fingerprints to the chunk list they describe (its SHA-256, with the chunk
// count): one is used only for a file whose state in the parent backup has exactly that chunk
// list, so an entry of another backup, repository or file can never lend a page a wrong ID.
type pageCache struct {
	dir   string
	gcm   cipher.AEAD
	keyID [8]byte
}

const (
	pageCacheMagic = "PFP1"
	pageCacheKey   = "chave"
	fingerprintLen = 16
)

var pageCacheNonce = make([]byte, 12) // a fixed nonce: only the GHASH part of the tag varies

// openPageCache opens (creating it, with a new key, when needed) the cache in dir.
func openPageCache(dir string) (*pageCache, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	keyPath := filepath.Join(dir, pageCacheKey)
	key, err := os.ReadFile(keyPath)
	if err != nil || len(key) != 32 {
		// A new key makes every entry (fingerprinted under the old one) unusable: remove them.
		if err := keepEntries(dir, nil); err != nil {
			return nil, err
		}
		key = make([]byte, 32)
		rand.Read(key)
		tmp := keyPath + ".tmp"
		if err := os.WriteFile(tmp, key, 0o600); err != nil {
			return nil, err
		}
		if err := os.Rename(tmp, keyPath); err != nil {
			return nil, err
		}
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	c := &pageCache{dir: dir, gcm: gcm}
	sum := sha256.Sum256(append([]byte("painel page cache key id\x00"), key...))
	copy(c.keyID[:], sum[:])
	return c, nil
}

// fingerprint appends page's fingerprint to dst.
func (c *pageCache) fingerprint(dst, page []byte) []byte {
	return c.gcm.Seal(dst, pageCacheNonce, nil, page)
}

// entryName is the file of the fingerprints of path in backup id (validated: a safe name).
func entryName(id, path string) string {
	h := sha256.Sum256([]byte(path))
	return id + "-" + hex.EncodeToString(h[:12]) + ".pfp"
}

// chunksDigest identifies a chunk list.
func chunksDigest(l ChunkList) [32]byte {
	h := sha256.New()
	var rec [32 + binary.MaxVarintLen64]byte
	for _, c := range l {
		copy(rec[:], c.ID[:])
		n := binary.PutUvarint(rec[32:], uint64(c.Len))
		h.Write(rec[:32+n])
	}
	var d [32]byte
	h.Sum(d[:0])
	return d
}

// load returns the fingerprints backup id recorded for path, when its entry exists, is intact,
// was made under this cache's key and describes exactly ref's chunk list; else nil.
func (c *pageCache) load(id, path string, ref FileEntry) []byte {
	if !validID(id) {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(c.dir, entryName(id, path)))
	head := len(pageCacheMagic) + len(c.keyID) + 32 + 8
	if err != nil || len(b) < head+4 {
		return nil
	}
	body := b[:len(b)-4]
	if crc32.Checksum(body, crcTable) != binary.BigEndian.Uint32(b[len(b)-4:]) ||
		string(body[:4]) != pageCacheMagic || !bytes.Equal(body[4:12], c.keyID[:]) {
		return nil
	}
	n := binary.BigEndian.Uint64(body[44:52])
	fps := body[head:]
	if n != uint64(len(ref.Chunks)) || uint64(len(fps)) != n*fingerprintLen {
		return nil
	}
	if d := chunksDigest(ref.Chunks); !bytes.Equal(body[12:44], d[:]) {
		return nil
	}
	return fps
}

// save records the fingerprints of the chunks of e (one per chunk, in order) as backup id's.
func (c *pageCache) save(id string, e FileEntry, fps []byte) error {
	if !validID(id) {
		return fmt.Errorf("id de backup inválido: %q", id)
	}
	if len(fps) != len(e.Chunks)*fingerprintLen {
		return fmt.Errorf("%d impressões para %d blocos", len(fps)/fingerprintLen, len(e.Chunks))
	}
	b := make([]byte, 0, 52+len(fps)+4)
	b = append(b, pageCacheMagic...)
	b = append(b, c.keyID[:]...)
	d := chunksDigest(e.Chunks)
	b = append(b, d[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(len(e.Chunks)))
	b = append(b, fps...)
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
	// No fsync: an entry lost or torn in a crash is only a miss (load checks the CRC).
	name := filepath.Join(c.dir, entryName(id, e.Path))
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}

// keep removes the entries of every backup not in ids, and leftover temporary files.
func (c *pageCache) keep(ids map[string]bool) error { return keepEntries(c.dir, ids) }

// keepEntries removes from dir the entries of every backup not in ids (all of them for nil),
// and leftover temporary files.
func keepEntries(dir string, ids map[string]bool) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		name := e.Name()
		id := name
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			id = name[:i]
		}
		if strings.HasSuffix(name, ".tmp") || (strings.HasSuffix(name, ".pfp") && !ids[id]) {
			if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)
