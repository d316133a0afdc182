package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
)

// A backup is Badger's stream backup followed by a trailer: backupMagic,
// the length of the stream (uint64) and its CRC-32C (uint32), little-endian.
// Badger's own format is a run of records and Load stops at the end of any
// of them, so without the trailer a backup cut short (a download that failed
// half-way) restores part of the store without a word.
var backupMagic = []byte("gateway-backup1\n")

const trailerLen = 16 + 8 + 4

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errBackupCutShort is returned by trailerReader for a stream without a
// valid trailer.
var errBackupCutShort = errors.New("the backup is cut short or damaged: it does not end with the gateway's end marker " +
	"(a backup that failed half-way, or not a gateway backup); take a new one")

// trailerWriter counts and checksums what passes through it.
type trailerWriter struct {
	w   io.Writer
	n   uint64
	crc uint32
}

func (t *trailerWriter) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	t.n += uint64(n)
	t.crc = crc32.Update(t.crc, castagnoli, p[:n])
	return n, err
}

// finish writes the trailer.
func (t *trailerWriter) finish() error {
	tr := append(append([]byte(nil), backupMagic...), make([]byte, 12)...)
	binary.LittleEndian.PutUint64(tr[16:], t.n)
	binary.LittleEndian.PutUint32(tr[24:], t.crc)
	_, err := t.w.Write(tr)
	return err
}

// trailerReader passes a backup's stream through, holding back the last
// trailerLen bytes, and at the end checks that they are a trailer matching
// the stream: instead of io.EOF it returns errBackupCutShort.
type trailerReader struct {
	r   io.Reader
	buf []byte // read but not yet passed on; the last trailerLen are held
	eof bool
	n   uint64
	crc uint32
}

func (t *trailerReader) Read(p []byte) (int, error) {
	for !t.eof && len(t.buf) < trailerLen+len(p) {
		chunk := make([]byte, max(len(p), 64<<10))
		n, err := t.r.Read(chunk)
		t.buf = append(t.buf, chunk[:n]...)
		if errors.Is(err, io.EOF) {
			t.eof = true
		} else if err != nil {
			return 0, err
		}
	}
	avail := len(t.buf) - trailerLen
	if avail <= 0 {
		if t.eof {
			return 0, t.check()
		}
		return 0, nil
	}
	n := copy(p, t.buf[:avail])
	t.n += uint64(n)
	t.crc = crc32.Update(t.crc, castagnoli, p[:n])
	t.buf = t.buf[n:]
	return n, nil
}

func (t *trailerReader) check() error {
	tr := t.buf
	if len(tr) != trailerLen || !bytes.Equal(tr[:16], backupMagic) ||
		binary.LittleEndian.Uint64(tr[16:]) != t.n || binary.LittleEndian.Uint32(tr[24:]) != t.crc {
		return errBackupCutShort
	}
	return io.EOF
}
