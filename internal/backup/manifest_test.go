package backup

import (
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
	if per := float64(len(b)) / float64(len(chunks)+len(patch)); per > 60 {
		t.Errorf("%.0f bytes per chunk in the manifest", per)
	}

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
