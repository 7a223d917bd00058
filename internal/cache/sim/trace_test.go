package sim

import (
	"bytes"
	"compress/gzip"
	"errors"
	"slices"
	"strings"
	"testing"
)

func gz(t testing.TB, s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestReadTraceKeys(t *testing.T) {
	in := "1\r\n2\r\n\r\n  \n\t18446744073709551615  \r\n2\n7"
	want := []uint64{1, 2, 18446744073709551615, 2, 7}
	for _, format := range []string{FormatKeys, FormatAuto, ""} {
		for _, data := range [][]byte{[]byte(in), gz(t, in)} {
			tr, err := ReadTrace(bytes.NewReader(data), format)
			if err != nil {
				t.Fatalf("%q: %v", format, err)
			}
			if got := tr.Keys(); !slices.Equal(got, want) || tr.Len() != len(want) {
				t.Fatalf("%q: got %v (len %d), want %v", format, got, tr.Len(), want)
			}
		}
	}
}

func TestReadTraceARC(t *testing.T) {
	in := "10 3 0 0\r\n\n5 1 0 1\n7\t2\t0\t2\n"
	want := []uint64{10, 11, 12, 5, 7, 8}
	for _, format := range []string{FormatARC, FormatAuto} {
		for _, data := range [][]byte{[]byte(in), gz(t, in)} {
			tr, err := ReadTrace(bytes.NewReader(data), format)
			if err != nil {
				t.Fatal(err)
			}
			if got := tr.Keys(); !slices.Equal(got, want) || tr.Len() != 6 || tr.Runs() != 3 {
				t.Fatalf("got %v len %d runs %d", got, tr.Len(), tr.Runs())
			}
			var viaAll []uint64
			for k := range tr.All() {
				viaAll = append(viaAll, k)
				if len(viaAll) == 4 {
					break
				}
			}
			if !slices.Equal(viaAll, want[:4]) {
				t.Fatalf("All with break: %v", viaAll)
			}
		}
	}
	// A run at the very top of the key space does not wrap.
	tr, err := ReadTrace(strings.NewReader("18446744073709551614 2 0 0\n"), FormatARC)
	if err != nil || !slices.Equal(tr.Keys(), []uint64{18446744073709551614, 18446744073709551615}) {
		t.Fatalf("top run: %v %v", tr.Keys(), err)
	}
	// ARC lines of count 1 only are stored as plain keys.
	tr, err = ReadTrace(strings.NewReader("4 1 0 0\n9 1 0 1\n"), FormatARC)
	if err != nil || tr.counts != nil || !slices.Equal(tr.Keys(), []uint64{4, 9}) {
		t.Fatalf("unit runs: %v %v", tr.Keys(), err)
	}
}

func TestReadTraceErrors(t *testing.T) {
	cases := []struct {
		format, in string
		line       int
		msg        string
	}{
		{FormatKeys, "1\n2\nx\n", 3, `"x" is not an unsigned integer`},
		{FormatKeys, "1\n-4\n", 2, "not an unsigned integer"},
		{FormatKeys, "1\n\n18446744073709551616\n", 3, "overflows uint64"},
		{FormatKeys, "1 2 0 0\n", 1, "want one key, got 4 fields"},
		{FormatAuto, "1\n1 2 0 0\n", 2, "want one key"},
		{FormatARC, "1 2 0 0\n5\n", 2, `want "start count x y", got 1 field`},
		{FormatARC, "1 2 0 0 9\n", 1, "more than 4 fields"},
		{FormatARC, "1 0 0 0\n", 1, "count is 0"},
		{FormatARC, "1 99999999999 0 0\n", 1, "exceeds"},
		{FormatARC, "18446744073709551615 2 0 0\n", 1, "overflows uint64"},
		{FormatARC, "1 2 0 z\n", 1, "field 4"},
		{FormatAuto, "1 2 0 0\n3\n", 2, "got 1 field"},
		{FormatKeys, "1\n" + strings.Repeat("9", maxLine+10) + "\n", 2, "line longer than"},
	}
	for _, c := range cases {
		_, err := ReadTrace(strings.NewReader(c.in), c.format)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%q: want ParseError, got %v", c.in[:min(len(c.in), 30)], err)
			continue
		}
		if pe.Line != c.line || !strings.Contains(pe.Msg, c.msg) {
			t.Errorf("%q: got line %d %q, want line %d containing %q", c.in[:min(len(c.in), 30)], pe.Line, pe.Msg, c.line, c.msg)
		}
	}
	if _, err := ReadTrace(strings.NewReader("1\n"), "csv"); err == nil || !strings.Contains(err.Error(), "csv") {
		t.Errorf("bad format: %v", err)
	}
	// Truncated gzip.
	data := gz(t, strings.Repeat("123\n", 1000))
	if _, err := ReadTrace(bytes.NewReader(data[:len(data)/2]), FormatKeys); err == nil {
		t.Error("truncated gzip: no error")
	}
	// Empty input is an empty trace.
	if tr, err := ReadTrace(strings.NewReader(""), FormatAuto); err != nil || tr.Len() != 0 {
		t.Errorf("empty: %v %v", tr.Len(), err)
	}
}

func TestSharedTraces(t *testing.T) {
	cases := []struct {
		name      string
		len, runs int
	}{
		{"arc_oltp.gz", 914145, 914145},
		{"arc_p3.gz", 3912296, 238578},
		{"lirs_loop.gz", 505500, 505500},
		{"caffeine_lirs_multi2.trace.gz", 26311, 26311},
	}
	for _, c := range cases {
		tr := sharedTrace(t, c.name)
		if tr.Len() != c.len || tr.Runs() != c.runs {
			t.Errorf("%s: len %d runs %d, want %d %d", c.name, tr.Len(), tr.Runs(), c.len, c.runs)
		}
	}
}

func FuzzReadTrace(f *testing.F) {
	f.Add([]byte("1\n2\r\n\n3\n"))
	f.Add([]byte("10 3 0 0\n5 1 0 1\n"))
	f.Add([]byte("18446744073709551615 1 0 0\n"))
	f.Add([]byte("1 2\n3 4 5\n"))
	f.Add([]byte{0x1f, 0x8b, 0x08, 0x00})
	f.Add(gz(f, "4\n5\n6\n"))
	f.Add(gz(f, "4 100 0 0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, format := range []string{FormatAuto, FormatKeys, FormatARC} {
			tr, err := ReadTrace(bytes.NewReader(data), format)
			if err != nil {
				if tr.Len() != 0 {
					t.Fatalf("error with a non-empty trace: %v", err)
				}
				continue
			}
			if tr.Len() > 1<<22 {
				continue
			}
			n := 0
			tr.Each(func(uint64) bool { n++; return true })
			if n != tr.Len() {
				t.Fatalf("Each yielded %d keys, Len is %d", n, tr.Len())
			}
			// Written back as keys, the trace reads back the same.
			var b strings.Builder
			for k := range tr.All() {
				b.WriteString(strconvU(k))
				b.WriteByte('\n')
			}
			back, err := ReadTrace(strings.NewReader(b.String()), FormatKeys)
			if err != nil || !slices.Equal(back.Keys(), tr.Keys()) {
				t.Fatalf("round trip: %v", err)
			}
		}
	})
}
