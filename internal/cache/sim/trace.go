package sim

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"os"
)

// Trace formats accepted by [ReadTrace].
const (
	FormatKeys = "keys" // one unsigned integer key per line
	FormatARC  = "arc"  // "start count x y" per line: keys start..start+count-1 (x, y ignored)
	FormatAuto = "auto" // decided by the first non-blank line: one field is keys, more is arc
)

// MaxARCRun is the largest count accepted on one ARC trace line.
const MaxARCRun = 1 << 24

// maxLine is the longest line ReadTrace accepts.
const maxLine = 1 << 16

// Trace is a sequence of integer keys stored as runs of consecutive keys, so ARC traces are not
// expanded in memory (12 bytes per line; 8 bytes per key for keys traces). The zero Trace is
// empty. A Trace is immutable and may be shared between goroutines.
type Trace struct {
	starts []uint64
	counts []uint32 // nil when every run has length 1
	n      int
}

// NewTrace returns a trace of the given keys. It keeps the slice; the caller must not modify it
// afterwards.
func NewTrace(keys []uint64) Trace { return Trace{starts: keys, n: len(keys)} }

// Len is the number of accesses (keys after expansion).
func (t Trace) Len() int { return t.n }

// Runs is the number of stored runs (lines of the source file).
func (t Trace) Runs() int { return len(t.starts) }

// Each calls fn for every key in order until fn returns false.
func (t Trace) Each(fn func(key uint64) bool) {
	if t.counts == nil {
		for _, k := range t.starts {
			if !fn(k) {
				return
			}
		}
		return
	}
	for i, s := range t.starts {
		for k, end := s, s+uint64(t.counts[i]); k != end; k++ {
			if !fn(k) {
				return
			}
		}
	}
}

// All returns an iterator over the keys in order.
func (t Trace) All() iter.Seq[uint64] { return t.Each }

// Keys returns the expanded keys in a new slice.
func (t Trace) Keys() []uint64 {
	if t.counts == nil {
		return append([]uint64(nil), t.starts...)
	}
	out := make([]uint64, 0, t.n)
	t.Each(func(k uint64) bool { out = append(out, k); return true })
	return out
}

// ParseError reports a malformed trace line.
type ParseError struct {
	Line int    // 1-based line number
	Msg  string // what is wrong
}

func (e *ParseError) Error() string { return fmt.Sprintf("trace line %d: %s", e.Line, e.Msg) }

// ReadTraceFile opens path and reads it with [ReadTrace].
func ReadTraceFile(path, format string) (Trace, error) {
	f, err := os.Open(path)
	if err != nil {
		return Trace{}, err
	}
	defer f.Close()
	t, err := ReadTrace(f, format)
	if err != nil {
		return Trace{}, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// ReadTrace reads a trace in the given format (FormatKeys, FormatARC or FormatAuto; "" means
// auto). Input compressed with gzip is recognised by its magic bytes. Lines may end in LF or CRLF;
// blank lines are skipped; fields are separated by spaces or tabs. Errors name the line.
func ReadTrace(r io.Reader, format string) (Trace, error) {
	switch format {
	case "":
		format = FormatAuto
	case FormatKeys, FormatARC, FormatAuto:
	default:
		return Trace{}, fmt.Errorf("trace format %q: want %q, %q or %q", format, FormatKeys, FormatARC, FormatAuto)
	}
	br := bufio.NewReaderSize(r, 1<<16)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return Trace{}, fmt.Errorf("trace: gzip: %w", err)
		}
		defer zr.Close()
		r = zr
	} else {
		r = br
	}

	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), maxLine)
	var (
		t      Trace
		line   int
		fields [4][]byte
	)
	for sc.Scan() {
		line++
		b := bytes.TrimSuffix(sc.Bytes(), []byte{'\r'})
		nf, extra := splitFields(b, &fields)
		if nf == 0 {
			continue
		}
		if format == FormatAuto {
			if nf == 1 {
				format = FormatKeys
			} else {
				format = FormatARC
			}
		}
		switch format {
		case FormatKeys:
			if nf != 1 {
				return Trace{}, &ParseError{line, fmt.Sprintf("want one key, got %s (an arc trace?)", fieldCount(nf, extra))}
			}
			k, err := parseUint(fields[0])
			if err != "" {
				return Trace{}, &ParseError{line, fmt.Sprintf("key %s", err)}
			}
			t.starts = append(t.starts, k)
			t.n++
		case FormatARC:
			if nf < 2 || extra {
				return Trace{}, &ParseError{line, fmt.Sprintf("want \"start count x y\", got %s", fieldCount(nf, extra))}
			}
			start, err := parseUint(fields[0])
			if err != "" {
				return Trace{}, &ParseError{line, fmt.Sprintf("start %s", err)}
			}
			count, err := parseUint(fields[1])
			if err != "" {
				return Trace{}, &ParseError{line, fmt.Sprintf("count %s", err)}
			}
			for i := 2; i < nf; i++ {
				if _, err := parseUint(fields[i]); err != "" {
					return Trace{}, &ParseError{line, fmt.Sprintf("field %d %s", i+1, err)}
				}
			}
			switch {
			case count == 0:
				return Trace{}, &ParseError{line, "count is 0"}
			case count > MaxARCRun:
				return Trace{}, &ParseError{line, fmt.Sprintf("count %d exceeds %d", count, MaxARCRun)}
			case start > math.MaxUint64-(count-1):
				return Trace{}, &ParseError{line, fmt.Sprintf("run %d+%d overflows uint64", start, count)}
			case uint64(t.n) > math.MaxInt-count:
				return Trace{}, &ParseError{line, "trace too long"}
			}
			if count != 1 && t.counts == nil {
				t.counts = make([]uint32, len(t.starts), cap(t.starts))
				for i := range t.counts {
					t.counts[i] = 1
				}
			}
			t.starts = append(t.starts, start)
			if t.counts != nil {
				t.counts = append(t.counts, uint32(count))
			}
			t.n += int(count)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return Trace{}, &ParseError{line + 1, fmt.Sprintf("line longer than %d bytes", maxLine)}
		}
		return Trace{}, fmt.Errorf("trace: after line %d: %w", line, err)
	}
	return t, nil
}

func fieldCount(nf int, extra bool) string {
	switch {
	case extra:
		return "more than 4 fields"
	case nf == 1:
		return "1 field"
	}
	return fmt.Sprintf("%d fields", nf)
}

// splitFields splits b at spaces and tabs into at most len(dst) fields; extra reports more.
func splitFields(b []byte, dst *[4][]byte) (n int, extra bool) {
	i := 0
	for {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
			i++
		}
		if i == len(b) {
			return n, false
		}
		j := i
		for j < len(b) && b[j] != ' ' && b[j] != '\t' {
			j++
		}
		if n == len(dst) {
			return n, true
		}
		dst[n] = b[i:j]
		n++
		i = j
	}
}

// parseUint parses a decimal uint64; on failure it returns a description of the problem.
func parseUint(b []byte) (uint64, string) {
	if len(b) == 0 {
		return 0, "is empty"
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, fmt.Sprintf("%q is not an unsigned integer", truncate(b))
		}
		d := uint64(c - '0')
		if v > (math.MaxUint64-d)/10 {
			return 0, fmt.Sprintf("%q overflows uint64", truncate(b))
		}
		v = v*10 + d
	}
	return v, ""
}

func truncate(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}
