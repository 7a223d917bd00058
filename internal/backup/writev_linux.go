package backup

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// maxIovecs is how many buffers one writev(2) takes (IOV_MAX on Linux).
const maxIovecs = 1024

// maxWriteBytes is the most one writev(2) writes, and writeCut where writes are cut: a write
// never spans an offset of writeCut + k*maxWriteBytes. The page cache sizes the folios it
// allocates for a write by the write's length and by how its offset is aligned: a write of 1
// MiB at a 1 MiB boundary gets 1 MiB folios (2 MiB ones for 2 MiB and more), which the
// allocator takes from whole free blocks. On a VM that hands free 2 MiB blocks back to the
// host (free page reporting, as on the machine the benchmarks run on), those are the blocks the
// host has reclaimed, and the first touch of each of their pages faults in the host. Writing
// a 421 MB file with dd 1 MiB at a time cost 0.06-0.97 s of system time (five runs: 0.06,
// 0.08, 0.58, 0.71, 0.71), 4 MiB at a time ~1 s; the same 1 MiB writes shifted by one page
// (dd seek=4096) 0.06-0.08 s in every run. Cut one page off the 1 MiB boundaries, a write's
// folios grow from one page at its start to at most 512 KiB (the largest aligned block inside
// it), and those come from the allocator's smaller free blocks. restic's restore, which writes
// its ~1 MiB blobs at arbitrary offsets, gets small folios the same way.
const (
	maxWriteBytes = 1 << 20
	writeCut      = 4096
)

// writeLimit is how much a write from file offset pos may take before the next cut.
func writeLimit(pos int64) int {
	if pos < writeCut {
		return int(writeCut - pos)
	}
	return maxWriteBytes - int((pos-writeCut)%maxWriteBytes)
}

// writeBuffers writes bufs to f in order, at its current offset pos, with as few writev(2)
// calls as it takes (each of at most maxIovecs buffers, cut at the offsets writeCut +
// k*maxWriteBytes): a restore's chunks go from the frames they were decoded into straight to
// the page cache, without being gathered into a buffer first.
func writeBuffers(f *os.File, pos int64, bufs [][]byte) error {
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
		iov = nextWrite(iov[:0], bufs, off, writeLimit(pos))
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
		pos += int64(n)
		bufs, off = advance(bufs, off, n)
	}
}

// nextWrite appends to iov what the next writev(2) writes: bufs from byte off of bufs[0] on,
// at most maxIovecs buffers and limit bytes (a longer buffer is cut).
func nextWrite(iov, bufs [][]byte, off, limit int) [][]byte {
	size := 0
	for k, b := range bufs {
		if len(iov) == maxIovecs || size == limit {
			break
		}
		if k == 0 {
			b = b[off:]
		}
		b = b[:min(len(b), limit-size)]
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
