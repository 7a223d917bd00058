package backup

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// maxIovecs is how many buffers one writev(2) takes (IOV_MAX on Linux).
const maxIovecs = 1024

// maxWriteBytes is the most one writev(2) writes. The page cache sizes the folios it allocates
// for a write by the write's length: a write of 2 MiB or more at a 2 MiB boundary gets 2 MiB
// folios, which the allocator takes from whole free 2 MiB blocks. On a VM that hands such
// blocks back to the host (free page reporting, as on the machine the benchmarks run on),
// those are the blocks the host has reclaimed, and the first touch of each of their pages
// faults in the host: writing a 421 MB file 4 MiB at a time cost 1.0-1.1 s of system time,
// 1 MiB (or 256 KiB, or 64 KiB) at a time 0.06-0.09 s, after the same churn (1.1 GB of files
// written and deleted 15 s before). Elsewhere a 1 MiB write costs no more than a bigger one.
const maxWriteBytes = 1 << 20

// writeBuffers writes bufs to f in order, at its current offset, with as few writev(2) calls as
// it takes (each of at most maxIovecs buffers and maxWriteBytes bytes): a restore's chunks go
// from the frames they were decoded into straight to the page cache, without being gathered
// into a buffer first.
func writeBuffers(f *os.File, bufs [][]byte) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var iov [][]byte
	off := 0 // bytes of bufs[0] already written
	for {
		bufs, off = advance(bufs, off, 0)
		if len(bufs) == 0 {
			return nil
		}
		iov = nextWrite(iov[:0], bufs, off)
		var n int
		var werr error
		if err := rc.Write(func(fd uintptr) bool {
			for {
				n, werr = unix.Writev(int(fd), iov)
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
		bufs, off = advance(bufs, off, n)
	}
}

// nextWrite appends to iov what the next writev(2) writes: bufs from byte off of bufs[0] on,
// at most maxIovecs buffers and maxWriteBytes bytes (a longer buffer is cut).
func nextWrite(iov, bufs [][]byte, off int) [][]byte {
	size := 0
	for k, b := range bufs {
		if len(iov) == maxIovecs || size == maxWriteBytes {
			break
		}
		if k == 0 {
			b = b[off:]
		}
		b = b[:min(len(b), maxWriteBytes-size)]
		iov = append(iov, b)
		size += len(b)
	}
	return iov
}

// advance skips n written bytes of bufs, from byte off of bufs[0], and then the buffers left
// with nothing to write; it returns what is left and the offset in its first buffer.
func advance(bufs [][]byte, off, n int) ([][]byte, int) {
	for len(bufs) > 0 {
		k := min(n, len(bufs[0])-off)
		n -= k
		off += k
		if off < len(bufs[0]) {
			break
		}
		bufs, off = bufs[1:], 0
	}
	return bufs, off
}
