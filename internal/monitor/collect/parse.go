package collect

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// nextLine splits b at its first newline.
func nextLine(b []byte) (line, rest []byte) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return b, nil
	}
	return b[:i], b[i+1:]
}

// nextField returns the whitespace-separated field of b that starts at or
// after i, and the index just after it. The field is empty at the end of the
// line.
func nextField(b []byte, i int) ([]byte, int) {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	j := i
	for j < len(b) && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' {
		j++
	}
	return b[i:j], j
}

// parseUint parses a decimal unsigned integer.
func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n uint64
	for _, ch := range b {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		d := uint64(ch - '0')
		if n > (math.MaxUint64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// parseDecimal parses a non-negative decimal such as "0.52" or "12".
func parseDecimal(b []byte) (float64, bool) {
	dot := bytes.IndexByte(b, '.')
	if dot < 0 {
		n, ok := parseUint(b)
		return float64(n), ok
	}
	ip, ok := parseUint(b[:dot])
	if !ok {
		return 0, false
	}
	frac := b[dot+1:]
	if len(frac) == 0 {
		return float64(ip), true
	}
	if len(frac) > 18 {
		frac = frac[:18]
	}
	fp, ok := parseUint(frac)
	if !ok {
		return 0, false
	}
	return float64(ip) + float64(fp)/math.Pow10(len(frac)), true
}

// countDir counts the entries of a directory with getdents into buf. With
// pidsOnly it counts the directories whose name is numeric (the processes of
// a /proc); otherwise every entry except "." and ".." and the descriptor used
// for the listing itself (which shows up when listing /proc/self/fd).
func countDir(path string, buf []byte, pidsOnly bool) (int, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	var self [20]byte
	own := strconv.AppendInt(self[:0], int64(fd), 10)
	count := 0
	for {
		n, err := unix.Getdents(fd, buf)
		if err != nil {
			return 0, &os.PathError{Op: "getdents", Path: path, Err: err}
		}
		if n <= 0 {
			return count, nil
		}
		// struct linux_dirent64 { u64 ino; s64 off; u16 reclen; u8 type; char name[]; }
		for b := buf[:n]; len(b) >= 19; {
			reclen := int(binary.NativeEndian.Uint16(b[16:18]))
			if reclen < 19 || reclen > len(b) {
				return 0, &os.PathError{Op: "getdents", Path: path, Err: errors.New("malformed dirent")}
			}
			typ, name := b[18], b[19:reclen]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			b = b[reclen:]
			switch {
			case pidsOnly:
				if _, ok := parseUint(name); ok && (typ == unix.DT_DIR || typ == unix.DT_UNKNOWN) {
					count++
				}
			case string(name) == "." || string(name) == ".." || bytes.Equal(name, own):
			default:
				count++
			}
		}
	}
}
