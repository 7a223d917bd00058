// Package repo is the content-addressed chunk store of the backups: chunks
// (named by the SHA-256 of their plaintext) are deduplicated, compressed
// with zstd, optionally encrypted with AES-256-GCM, and packed into large
// pack objects on a storage.Backend, with index objects that map each chunk
// to its pack. Backups describe themselves in manifests stored beside them.
//
// # Use
//
// A backup stores each file's chunks through a Batch (or calls Put for every
// chunk, concurrently if it likes), then Flush, then SaveManifest (which
// flushes too). A Batch gathers the new chunks of a file into frames of
// about DefaultFrameSize bytes that are compressed together. A chunk counts as stored only once
// a Flush that follows its Put returned nil: until then a crash loses it,
// and it is invisible to every other Repo. Restore reads chunks with Get or,
// faster for many chunks, GetMany/GetManyAt (any order) or ReadOrdered (a
// file's chunks in order, each frame decoded once); all check every chunk's
// SHA-256. ReadOrderedUnchecked leaves that to the caller's SHA-256 of the
// whole (a file's, which covers each chunk); SumMismatch names the damaged
// chunk when that fails.
// Verify(readData) checks the whole store, VerifyChunks the chunks of one
// backup; Prune(keep) removes what no backup needs. Open tolerates damaged
// index objects (Verify reports them, RebuildIndex repairs them from the
// packs' own headers).
//
// # Crash safety
//
// Packs are written first, then the index objects that list them, and
// manifests last (SaveManifest flushes first). Every object is written
// whole or not at all (storage.Backend's Put is atomic). A pack that no
// index lists is invisible garbage that Prune deletes; an index object is
// only ever deleted after the index objects that replace it are written,
// and a pack only after no remaining index object lists it. A crash at any
// point therefore leaves a repository that verifies, holding at least every
// chunk that was stored (flushed) and kept, and at worst duplicates or
// garbage that the next Prune removes.
//
// # On-disk format (version 2)
//
// All integers are little endian; "uvarint" is encoding/binary's unsigned
// varint. Object names:
//
//	config                          repository configuration
//	keys/<64 hex>                   the master key wrapped by a passphrase (encrypted repositories)
//	packs/<2 hex>/<64 hex>          a pack; the name is the SHA-256 of the whole object
//	index/<64 hex>                  an index object; the name is the SHA-256 of the whole object
//	manifests/<[a-z0-9-]{1,64}>     a manifest (the caller's bytes)
//
// Envelope. Config, keys, index objects, manifests and pack headers share
// one container:
//
//	magic    4 bytes  "PBK" + kind: 'C' config, 'K' key, 'I' index, 'M' manifest, 'H' pack header
//	version  1 byte   1
//	flags    1 byte   bit 0: body is zstd-compressed; bit 1: body is encrypted
//	body     ...      payload, zstd-compressed if bit 0 (only when that is smaller);
//	                  if bit 1: 12-byte random nonce || AES-256-GCM(master key,
//	                  compressed payload, additional data = magic..flags || binding) incl. 16-byte tag
//	sum      32 bytes SHA-256(binding || 0x00 || magic..body)
//
// The binding names what the envelope is for, so that objects cannot be
// swapped: the object name for config ("config"), keys and manifests
// ("manifests/<name>"), "index/" for index objects (their name is already
// the hash of their bytes) and "pack" for pack headers (inside a pack whose
// name is its hash). In an encrypted repository, index objects, manifests
// and pack headers are encrypted; config and keys never are. The sum lets
// anything, with or without the key, detect a flipped byte.
//
// Config (kind 'C', never compressed or encrypted): JSON
//
//	{"version":2, "id":"<64 hex, random>", "created":"<RFC 3339>",
//	 "chunker_polynomial":<uint64, optional, for the chunker>,
//	 "encryption":"none"|"aes-256-gcm", "compression":"zstd",
//	 "kdf":{"algorithm":"argon2id","time":3,"memory_kib":65536,"threads":2}}
//
// kdf (only when encrypted) holds the parameters new keys are made with.
//
// Key (kind 'K', never compressed or encrypted), keys/<random 64 hex>: JSON
//
//	{"created":"...", "kdf":{...as above...}, "salt":"<base64, 16 bytes>",
//	 "data":"<base64: 12-byte nonce || AES-256-GCM(kek, 32-byte master key) || tag>"}
//
// where kek = argon2id(passphrase, salt, kdf) (32 bytes) and the additional
// data is "painel-backup key " + config id + " " + object name. A passphrase
// is right when the tag checks; Open tries every key object.
//
// Frame (one or more stored chunks, inside a pack; version 1 stored one
// chunk per frame):
//
//	plaintext = the chunks' plaintexts one after the other
//	payload = zstd(plaintext) if that is smaller, else the plaintext (flag bit 0)
//	encrypted:   12-byte random nonce || AES-256-GCM(master key, payload,
//	             additional data = "painel-backup frame") incl. 16-byte tag (flag bit 1)
//	unencrypted: payload || CRC-32C (Castagnoli) of payload, 4 bytes
//
// Reading a chunk checks its frame's tag (or CRC), decompresses the frame,
// takes the chunk's bytes at its offset in the frame and checks that their
// SHA-256 is the chunk ID (which binds each chunk to its bytes, whatever
// frame holds it).
//
// Pack, packs/<h[:2]>/<h> with h = SHA-256 of the whole object:
//
//	frame 0 || frame 1 || ... || header envelope (kind 'H') || uint32 header envelope length || "PBKP"
//
// The header's payload lists the pack's blobs (the same entry encoding as
// index objects), so the index can be rebuilt from the packs alone:
//
//	entries = uvarint count, then per chunk:
//	    chunk ID (32 bytes), uvarint offset of its frame, uvarint stored length of the frame,
//	    uvarint plaintext length of the chunk, flags of the frame (1 byte: bit 0 zstd,
//	    bit 1 encrypted), uvarint offset of the chunk in the frame's plaintext
//
// (the chunks of one frame share its offset, length and flags; frames do not overlap)
//
// Index object (kind 'I', compressed when smaller, encrypted when the
// repository is), index/<SHA-256 of the whole object>: payload
//
//	uvarint pack count, then per pack:
//	    pack ID (32 bytes), uvarint pack size, uvarint unused bytes, entries
//
// "unused" counts bytes of blobs still in the pack but no longer listed
// (Prune drops removed chunks from the index without always rewriting their
// pack; it rewrites a pack once more than Options.MaxUnused of it is
// unused). Flush writes one index object per call, for the packs written
// since the previous one; Prune replaces all index objects by a compacted
// set (at most 250 000 chunks each). On Open every index object is read,
// its name checked against its hash, and merged into an in-memory map from
// chunk ID to (pack, offset, length, plaintext length, flags).
//
// Manifest (kind 'M', compressed when smaller, encrypted when the
// repository is), manifests/<name>: the caller's bytes.
package repo
