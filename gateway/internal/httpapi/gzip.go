package httpapi

import (
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"strings"
)

// Request bodies may come compressed with Content-Encoding: gzip (x-gzip is
// its alias, RFC 9110). The limit on a body (server.max_body_bytes, or the
// module cap for plugin uploads) applies twice: to the bytes on the wire,
// and again to the bytes after decompression, so that a zip bomb stops with
// a 413 after max_body_bytes of output instead of filling memory. Any other
// encoding is a 415 with Accept-Encoding: gzip (RFC 7694); identity, or no
// header, is the plain body.

// CodeInvalidEncoding is the code of a body that is not what its
// Content-Encoding says (a broken gzip stream).
const CodeInvalidEncoding = "invalid_encoding"

// decodedBody replaces r.Body, already capped at maxBody by
// http.MaxBytesReader, with its decompressed form, capped again at maxBody.
// It fails with a 415 for an encoding the gateway does not speak. A
// request without a body (a GET) is left alone.
func decodedBody(w http.ResponseWriter, r *http.Request, maxBody int64) error {
	if r.ContentLength == 0 {
		return nil // no body, or http.NoBody: nothing to decode
	}
	enc := strings.TrimSpace(r.Header.Get("Content-Encoding"))
	if len(r.Header.Values("Content-Encoding")) > 1 {
		enc = strings.Join(r.Header.Values("Content-Encoding"), ", ")
	}
	switch {
	case enc == "" || strings.EqualFold(enc, "identity"):
		return nil
	case strings.EqualFold(enc, "gzip") || strings.EqualFold(enc, "x-gzip"):
		r.Body = http.MaxBytesReader(w, &gunzip{src: r.Body}, maxBody)
		return nil
	}
	w.Header().Set("Accept-Encoding", "gzip")
	return errorf(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "", "Content-Encoding %q is not supported; send the body uncompressed or with Content-Encoding: gzip", enc)
}

// gunzip decompresses src, opening the gzip stream on the first Read so
// that a broken header is reported by the read like any other error.
type gunzip struct {
	src io.ReadCloser
	zr  *gzip.Reader
}

func (g *gunzip) Read(p []byte) (int, error) {
	if g.zr == nil {
		zr, err := gzip.NewReader(g.src)
		if err != nil {
			return 0, encodingError(err)
		}
		g.zr = zr
	}
	n, err := g.zr.Read(p)
	if err != nil && err != io.EOF {
		err = encodingError(err)
	}
	return n, err
}

func (g *gunzip) Close() error { return g.src.Close() }

// encodingError maps a failure to decompress to a 400, leaving the wire
// cap's *http.MaxBytesError (a 413) as it is.
func encodingError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return err
	}
	return errorf(http.StatusBadRequest, CodeInvalidEncoding, "", "the body is not valid gzip (Content-Encoding: gzip): %v", err)
}

// decompressed qualifies the size limit in a 413 for a compressed body.
func decompressed(r *http.Request) string {
	if r.Header.Get("Content-Encoding") != "" {
		return " once decompressed"
	}
	return ""
}
