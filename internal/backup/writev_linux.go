package backup

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// maxIovecs is how many buffers one writev(2) takes (IOV_MAX on Linux).
const maxIovecs = 1024

// writeBuffers writes bufs to f in order, at its current offset, with as few writev(2) calls as
// it takes: a restore's chunks go from the frames they were decoded into straight to the page
// cache, without being gathered into a buffer first.
func writeBuffers(f *os.File, bufs [][]byte) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	for len(bufs) > 0 {
		if len(bufs[0]) == 0 {
			bufs = bufs[1:]
			continue
		}
		part := bufs[:min(len(bufs), maxIovecs)]
		var n int
		var werr error
		if err := rc.Write(func(fd uintptr) bool {
			for {
				n, werr = unix.Writev(int(fd), part)
				if werr != unix.EINTR {
					return true
				}
			}
		}); err != nil {
			return err
		}
		if werr != nil {
			return &os.PathError{Op: "writev", Path: f.Name(), Err: werr}
		}
		if n == 0 {
			return &os.PathError{Op: "writev", Path: f.Name(), Err: io.ErrShortWrite}
		}
		// Skip what was written: whole buffers, then the written head of a partly written one.
		for n > 0 && n >= len(bufs[0]) {
			n -= len(bufs[0])
			bufs = bufs[1:]
		}
		if n > 0 {
			rest := make([][]byte, len(bufs))
			copy(rest, bufs)
			rest[0] = rest[0][n:]
			bufs = rest
		}
	}
	return nil
}
