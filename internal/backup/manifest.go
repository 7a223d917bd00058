package backup

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Backup types (pgBackRest's meanings).
const (
	Full         = "completo"    // restorable on its own
	Differential = "diferencial" // what changed since the last full
	Incremental  = "incremental" // what changed since the last backup of any type
)

// ChunkRef is one chunk of a file, in order.
type ChunkRef struct {
	ID  string `json:"id"`
	Len int64  `json:"tam"`
}

// FileEntry is a file as a backup recorded it.
type FileEntry struct {
	Path   string     `json:"caminho"`
	Mode   uint32     `json:"modo"`
	MTime  time.Time  `json:"mtime"`
	Size   int64      `json:"tamanho"`
	SHA256 string     `json:"sha256"`
	MD5    string     `json:"md5"`
	SQLite bool       `json:"sqlite,omitempty"`
	Chunks []ChunkRef `json:"blocos"`
	// Delta: when set, Chunks is empty and the chunk list is the same path's list in the
	// parent's state with Patch applied, NChunks long (a SQLite database whose scattered
	// pages changed lists only those, not its 100,000 pages again).
	Delta   bool         `json:"delta,omitempty"`
	NChunks int          `json:"n_blocos,omitempty"`
	Patch   []ChunkPatch `json:"alteracoes,omitempty"`
}

// ChunkPatch replaces (or appends) the chunk at index I.
type ChunkPatch struct {
	I int `json:"i"`
	ChunkRef
}

// Manifest describes one backup. A full lists every file; a differential or incremental lists
// the files that are new or changed since its parent's state and the paths removed since, so a
// restore applies the chain from the full onwards.
type Manifest struct {
	Versao           int         `json:"versao"`
	ID               string      `json:"id"`
	Tipo             string      `json:"tipo"`
	Pai              string      `json:"pai,omitempty"`
	Completo         string      `json:"base_completo,omitempty"` // the full at the root of the chain
	Banco            string      `json:"banco"`                   // sqlite or postgres
	Fontes           []string    `json:"fontes"`
	Arquivos         []FileEntry `json:"arquivos"`
	Removidos        []string    `json:"removidos,omitempty"`
	TotalArquivos    int         `json:"total_arquivos"`    // files in the state it restores
	BytesLogicos     int64       `json:"bytes_logicos"`     // their total size
	BytesLidos       int64       `json:"bytes_lidos"`       // read by this run
	BytesArmazenados int64       `json:"bytes_armazenados"` // added to the store by this run
	Inicio           time.Time   `json:"inicio"`
	Fim              time.Time   `json:"fim"`
}

const manifestVersion = 1

var idPattern = regexp.MustCompile(`^[0-9]{8}t[0-9]{9}z-[0-9a-f]{6}$`)

// newID returns a backup id that sorts by time, to the millisecond: 20261128t214901123z-1a2b3c.
func newID(t time.Time) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return strings.ToLower(strings.Replace(t.UTC().Format("20060102T150405.000Z"), ".", "", 1)) + "-" + hex.EncodeToString(b)
}

func validID(id string) bool { return idPattern.MatchString(id) }

// validate checks what restore relies on: known type, parent rules, safe unique paths, sizes
// that add up.
func (m *Manifest) validate() error {
	if m.Versao != manifestVersion {
		return fmt.Errorf("manifesto %s: versão %d desconhecida", m.ID, m.Versao)
	}
	if !validID(m.ID) {
		return fmt.Errorf("manifesto: id %q inválido", m.ID)
	}
	switch m.Tipo {
	case Full:
		if m.Pai != "" || len(m.Removidos) != 0 {
			return fmt.Errorf("manifesto %s: completo com pai ou removidos", m.ID)
		}
	case Differential, Incremental:
		if !validID(m.Pai) || !validID(m.Completo) {
			return fmt.Errorf("manifesto %s: %s sem pai ou base", m.ID, m.Tipo)
		}
	default:
		return fmt.Errorf("manifesto %s: tipo %q", m.ID, m.Tipo)
	}
	seen := map[string]bool{}
	for _, f := range m.Arquivos {
		if err := cleanRel(f.Path); err != nil {
			return fmt.Errorf("manifesto %s: %w", m.ID, err)
		}
		if seen[f.Path] {
			return fmt.Errorf("manifesto %s: %q duas vezes", m.ID, f.Path)
		}
		seen[f.Path] = true
		if f.Delta {
			if m.Tipo == Full || len(f.Chunks) != 0 || f.NChunks < 0 || f.NChunks > 1<<30 || len(f.SHA256) != 64 {
				return fmt.Errorf("manifesto %s: delta inválido em %q", m.ID, f.Path)
			}
			last := -1
			for _, c := range f.Patch {
				if c.I <= last || c.I >= f.NChunks || len(c.ID) != 64 || c.Len <= 0 {
					return fmt.Errorf("manifesto %s: alteração inválida em %q", m.ID, f.Path)
				}
				last = c.I
			}
			continue // the sizes are checked when the chain is resolved
		}
		var total int64
		for _, c := range f.Chunks {
			if len(c.ID) != 64 || c.Len <= 0 {
				return fmt.Errorf("manifesto %s: bloco inválido em %q", m.ID, f.Path)
			}
			total += c.Len
		}
		if total != f.Size || f.Size < 0 || len(f.SHA256) != 64 {
			return fmt.Errorf("manifesto %s: %q: blocos somam %d, tamanho %d", m.ID, f.Path, total, f.Size)
		}
	}
	for _, p := range m.Removidos {
		if err := cleanRel(p); err != nil {
			return fmt.Errorf("manifesto %s: %w", m.ID, err)
		}
	}
	return nil
}

func (m *Manifest) encode() ([]byte, error) { return json.Marshal(m) }

func decodeManifest(b []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("manifesto ilegível: %w", err)
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// delta expresses cur's chunk list against prev's when that is much shorter (at most half the
// chunks changed), else returns cur unchanged.
func delta(prev, cur FileEntry) FileEntry {
	if len(prev.Chunks) == 0 || len(cur.Chunks) < 64 {
		return cur
	}
	var patch []ChunkPatch
	for i, c := range cur.Chunks {
		if i >= len(prev.Chunks) || prev.Chunks[i] != c {
			patch = append(patch, ChunkPatch{I: i, ChunkRef: c})
			if len(patch) > len(cur.Chunks)/2 {
				return cur
			}
		}
	}
	d := cur
	d.Delta, d.NChunks, d.Patch, d.Chunks = true, len(cur.Chunks), patch, []ChunkRef{}
	if d.Patch == nil {
		d.Patch = []ChunkPatch{}
	}
	return d
}

// apply materialises a delta entry on the same path's entry of the parent state.
func (f FileEntry) apply(prev FileEntry, ok bool) (FileEntry, error) {
	if !f.Delta {
		return f, nil
	}
	if !ok {
		return f, fmt.Errorf("%q: delta sem o arquivo no backup anterior", f.Path)
	}
	chunks := make([]ChunkRef, f.NChunks)
	copy(chunks, prev.Chunks)
	for _, p := range f.Patch {
		chunks[p.I] = p.ChunkRef
	}
	var total int64
	for i, c := range chunks {
		if c.ID == "" {
			return f, fmt.Errorf("%q: bloco %d ausente no delta", f.Path, i)
		}
		total += c.Len
	}
	if total != f.Size {
		return f, fmt.Errorf("%q: blocos somam %d, tamanho %d", f.Path, total, f.Size)
	}
	out := f
	out.Delta, out.NChunks, out.Patch, out.Chunks = false, 0, nil, chunks
	return out, nil
}

// state is the set of files a backup restores, by path.
type state map[string]FileEntry

func (s state) sorted() []FileEntry {
	out := make([]FileEntry, 0, len(s))
	for _, f := range s {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func (s state) size() (n int64) {
	for _, f := range s {
		n += f.Size
	}
	return n
}
