package backup

import (
	"encoding/binary"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/painel-universal/painel/internal/backup/repo"
)

// TestManifestChunkLists: chunk and patch lists round-trip through their compact encoding,
// manifests of version 1 (lists as arrays of objects) read the same, and damaged lists are
// refused.
func TestManifestChunkLists(t *testing.T) {
	var chunks ChunkList
	for i := range 1000 {
		chunks = append(chunks, ChunkRef{ID: repo.Hash([]byte{byte(i), byte(i >> 8)}), Len: int64(1 + i*4099)})
	}
	patch := PatchList{{I: 0, ChunkRef: chunks[1]}, {I: 1, ChunkRef: chunks[2]}, {I: 700, ChunkRef: chunks[3]}, {I: 999, ChunkRef: chunks[4]}}
	var size int64
	for _, c := range chunks {
		size += c.Len
	}
	sum := strings.Repeat("a", 64)
	mtime := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	m := Manifest{Versao: manifestVersion, ID: "20261129t120000000z-abcdef", Tipo: Incremental,
		Pai: "20261129t110000000z-abcdef", Completo: "20261129t100000000z-abcdef", Fontes: []string{},
		Arquivos: []FileEntry{
			{FileSummary: FileSummary{Path: "a.db", Size: size, SHA256: sum, MTime: mtime}, Chunks: chunks},
			{FileSummary: FileSummary{Path: "b.db", Size: 9, SHA256: sum, MTime: mtime, Delta: true, NChunks: 1000},
				Chunks: ChunkList{}, Patch: patch},
			{FileSummary: FileSummary{Path: "vazio", SHA256: sum, MTime: mtime}, Chunks: ChunkList{}},
		}}
	b, err := m.encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Arquivos, m.Arquivos) {
		t.Fatalf("round trip changed the files:\n%+v\nwant\n%+v", got.Arquivos[1], m.Arquivos[1])
	}
	if per := float64(len(b)) / float64(len(chunks)+len(patch)); per > 40 {
		t.Errorf("%.0f bytes per chunk in the manifest", per)
	}
	// Version 2: the lists as base64 strings inside one JSON document.
	b2, err := m.encodeJSON()
	if err != nil {
		t.Fatal(err)
	}
	got, err = decodeManifest(b2)
	if err != nil {
		t.Fatalf("version 2 manifest: %v", err)
	}
	if !reflect.DeepEqual(got.Arquivos, m.Arquivos) {
		t.Fatal("a version 2 manifest reads differently")
	}
	b = b2

	// Version 1: the same lists as arrays of objects with hexadecimal IDs.
	type v1chunk struct {
		I   int    `json:"i,omitempty"`
		ID  string `json:"id"`
		Len int64  `json:"tam"`
	}
	v1 := func(l ChunkList) []v1chunk {
		out := []v1chunk{}
		for _, c := range l {
			out = append(out, v1chunk{ID: c.ID.String(), Len: c.Len})
		}
		return out
	}
	var v1patch []v1chunk
	for _, p := range patch {
		v1patch = append(v1patch, v1chunk{I: p.I, ID: p.ID.String(), Len: p.Len})
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	doc["versao"] = 1
	files := doc["arquivos"].([]any)
	files[0].(map[string]any)["blocos"] = v1(chunks)
	files[1].(map[string]any)["blocos"] = v1(ChunkList{})
	files[1].(map[string]any)["alteracoes"] = v1patch
	files[2].(map[string]any)["blocos"] = v1(ChunkList{})
	old, _ := json.Marshal(doc)
	got, err = decodeManifest(old)
	if err != nil {
		t.Fatalf("version 1 manifest: %v", err)
	}
	if !reflect.DeepEqual(got.Arquivos, m.Arquivos) {
		t.Fatal("a version 1 manifest reads differently")
	}

	// Damaged lists.
	for name, blocos := range map[string]any{
		"truncated record": "AAAA",
		"not base64":       "!!!",
		"length overflow":  strings.Repeat("A", 43) + "/////////////w==",
		"bad hex id (v1)":  []v1chunk{{ID: "xyz", Len: 1}},
		"number":           7,
	} {
		doc["versao"] = manifestVersion
		files[0].(map[string]any)["blocos"] = blocos
		bad, _ := json.Marshal(doc)
		if _, err := decodeManifest(bad); err == nil {
			t.Errorf("%s: manifest accepted", name)
		}
	}
	// A list whose lengths do not add up to the file's size is refused by validate.
	m.Arquivos[0].Chunks = chunks[:999]
	b, _ = m.encode()
	if _, err := decodeManifest(b); err == nil {
		t.Error("chunks that do not add up to the size accepted")
	}
}

// TestManifestBinaryDamage: a version 3 manifest cut anywhere, with a byte changed in its
// binary part, with bytes added, or with lists inside its JSON part, is refused without a
// panic.
func TestManifestBinaryDamage(t *testing.T) {
	var chunks ChunkList
	var size int64
	for i := range 50 {
		chunks = append(chunks, ChunkRef{ID: repo.Hash([]byte{byte(i)}), Len: int64(100 + i)})
		size += int64(100 + i)
	}
	sum := strings.Repeat("b", 64)
	m := Manifest{Versao: manifestVersion, ID: "20261129t120000000z-abcdef", Tipo: Incremental,
		Pai: "20261129t110000000z-abcdef", Completo: "20261129t100000000z-abcdef", Fontes: []string{},
		Arquivos: []FileEntry{
			{FileSummary: FileSummary{Path: "a.db", Size: size, SHA256: sum}, Chunks: chunks},
			{FileSummary: FileSummary{Path: "b.db", Size: 9, SHA256: sum, Delta: true, NChunks: 60},
				Chunks: ChunkList{}, Patch: PatchList{{I: 3, ChunkRef: chunks[0]}, {I: 59, ChunkRef: chunks[1]}}},
		}}
	b, err := m.encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decodeManifest(b); err != nil {
		t.Fatal(err)
	}
	for n := range len(b) {
		if _, err := decodeManifest(b[:n]); err == nil {
			t.Fatalf("manifest cut at %d of %d bytes accepted", n, len(b))
		}
	}
	if _, err := decodeManifest(append(append([]byte(nil), b...), 0)); err == nil {
		t.Fatal("manifest with a byte added accepted")
	}
	n, k := binary.Uvarint(b[len(manifestMagic):])
	jsEnd := len(manifestMagic) + k + int(n)
	if k <= 0 || b[jsEnd-1] != '}' {
		t.Fatal("no JSON part")
	}
	// A changed byte in the binary part: refused, or read as other valid lists (an ID byte),
	// never a panic; flags, lengths and counts that do not fit are refused.
	for i := jsEnd; i < len(b); i++ {
		for _, x := range []byte{0x01, 0x80, 0xff} {
			bad := append([]byte(nil), b...)
			bad[i] ^= x
			decodeManifest(bad)
		}
	}
	bad := append([]byte(nil), b...)
	bad[jsEnd] = 4 // unknown flag on the first file
	if _, err := decodeManifest(bad); err == nil {
		t.Fatal("unknown list flags accepted")
	}
	// Lists inside the JSON part of a version 3 manifest are refused.
	withLists, _ := m.encodeJSON()
	in := append([]byte(manifestMagic), binary.AppendUvarint(nil, uint64(len(withLists)))...)
	in = append(in, withLists...)
	in = append(in, b[jsEnd:]...)
	if _, err := decodeManifest(in); err == nil {
		t.Fatal("lists inside the JSON part accepted")
	}
	// A length of the JSON part past the end is refused.
	over := append([]byte(manifestMagic), binary.AppendUvarint(nil, uint64(len(b)))...)
	over = append(over, b[len(manifestMagic)+1:]...)
	if _, err := decodeManifest(over); err == nil {
		t.Fatal("JSON length past the end accepted")
	}
}
