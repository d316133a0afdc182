package verify

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Standard Webhooks header names. Verify also accepts the svix-id,
// svix-timestamp and svix-signature aliases that Svix senders use.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// HeaderFlags is the gateway's list of the reasons its filter plugins
// flagged the event with; Flags reads it. It is not part of the signed
// content.
const HeaderFlags = "webhook-flags"

// Key prefixes. A "whsec_" secret verifies v1 signatures and a "whpk_"
// public key verifies v1a signatures.
const (
	SecretPrefix    = "whsec_"
	PublicKeyPrefix = "whpk_"
	// signingKeyPrefix marks the sender's private v1a key, which a receiver
	// must not hold.
	signingKeyPrefix = "whsk_"
)

// Defaults of a Verifier.
const (
	// DefaultTolerance is how far a message's timestamp may be from the
	// receiver's clock, in either direction, as in every reference library.
	DefaultTolerance = 5 * time.Minute
	// DefaultMaxBodyBytes caps the body VerifyRequest reads. It leaves room
	// above the gateway's default 1 MiB event limit for the payload envelope.
	DefaultMaxBodyBytes = 4 << 20
)

// maxTimestampDigits bounds the webhook-timestamp header. Eighteen digits
// reach past the year 30 billion and keep time.Unix far from overflow.
const maxTimestampDigits = 18

// Encoded lengths of a v1 and a v1a signature: padded standard base64 of a
// 32-byte MAC and of a 64-byte Ed25519 signature.
const (
	macB64Len = 44
	sigB64Len = 88
)

// Errors of Verify and VerifyRequest. Match them with errors.Is; the returned
// error may wrap one with detail.
var (
	// ErrMissingHeaders means the id, timestamp or signature header is
	// absent or empty.
	ErrMissingHeaders = errors.New("verify: missing signature header")
	// ErrInvalidTimestamp means webhook-timestamp is not integer Unix
	// seconds.
	ErrInvalidTimestamp = errors.New("verify: invalid webhook-timestamp")
	// ErrTimestampTooOld means the message was signed longer ago than the
	// tolerance: a replay, or a clock far behind.
	ErrTimestampTooOld = errors.New("verify: timestamp too old")
	// ErrTimestampTooNew means the timestamp is further in the future than
	// the tolerance.
	ErrTimestampTooNew = errors.New("verify: timestamp too new")
	// ErrNoMatchingSignature means no signature entry matched any key.
	ErrNoMatchingSignature = errors.New("verify: no matching signature")
	// ErrBodyTooLarge means VerifyRequest stopped reading at the body limit.
	ErrBodyTooLarge = errors.New("verify: body too large")
)

// Verifier checks the signatures of incoming webhook messages against a
// trusted set of keys. It is immutable after New and safe for concurrent use.
type Verifier struct {
	secrets   [][]byte            // v1 HMAC-SHA256 keys
	publics   []ed25519.PublicKey // v1a keys
	tolerance time.Duration
	now       func() time.Time
	maxBody   int64
}

// Option configures a Verifier built by NewWithOptions.
type Option func(*Verifier) error

// WithTolerance sets how far the timestamp may be from now, in the past or
// in the future. The default is DefaultTolerance.
func WithTolerance(d time.Duration) Option {
	return func(v *Verifier) error {
		if d < 0 {
			return fmt.Errorf("verify: tolerance must not be negative, got %s", d)
		}
		v.tolerance = d
		return nil
	}
}

// WithNow sets the clock that timestamps are checked against; tests pin it.
// The default is time.Now.
func WithNow(now func() time.Time) Option {
	return func(v *Verifier) error {
		if now == nil {
			return errors.New("verify: now must not be nil")
		}
		v.now = now
		return nil
	}
}

// WithMaxBodyBytes caps the body that VerifyRequest reads. The default is
// DefaultMaxBodyBytes.
func WithMaxBodyBytes(n int64) Option {
	return func(v *Verifier) error {
		if n <= 0 {
			return fmt.Errorf("verify: max body bytes must be positive, got %d", n)
		}
		v.maxBody = n
		return nil
	}
}

// New returns a Verifier that trusts the given keys, with the default
// options. Each key is either a "whsec_" secret (the prefix is optional;
// padded and unpadded base64 are both accepted), or a "whpk_" public key for
// v1a signatures. Pass both the old and the new key during a rotation.
func New(keys ...string) (*Verifier, error) {
	return NewWithOptions(keys)
}

// NewWithOptions is New with options such as WithTolerance.
func NewWithOptions(keys []string, opts ...Option) (*Verifier, error) {
	v := &Verifier{tolerance: DefaultTolerance, now: time.Now, maxBody: DefaultMaxBodyBytes}
	if len(keys) == 0 {
		return nil, errors.New("verify: no keys")
	}
	for i, k := range keys {
		if err := v.addKey(k); err != nil {
			return nil, fmt.Errorf("verify: key %d: %w", i, err)
		}
	}
	for _, opt := range opts {
		if err := opt(v); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// addKey decodes one key. Its errors never repeat the key.
func (v *Verifier) addKey(k string) error {
	k = strings.TrimSpace(k)
	switch {
	case strings.HasPrefix(k, PublicKeyPrefix):
		raw, err := decodeBase64(k[len(PublicKeyPrefix):])
		if err != nil || len(raw) != ed25519.PublicKeySize {
			return fmt.Errorf("%q key must be the base64 of %d bytes", PublicKeyPrefix, ed25519.PublicKeySize)
		}
		v.publics = append(v.publics, ed25519.PublicKey(raw))
	case strings.HasPrefix(k, signingKeyPrefix):
		return fmt.Errorf("a %q key is the sender's private key; verify with its %q public key", signingKeyPrefix, PublicKeyPrefix)
	default:
		raw, err := decodeBase64(strings.TrimPrefix(k, SecretPrefix))
		if err != nil {
			return fmt.Errorf("must be %q followed by base64", SecretPrefix)
		}
		if len(raw) == 0 {
			return errors.New("secret is empty")
		}
		v.secrets = append(v.secrets, raw)
	}
	return nil
}

// decodeBase64 accepts standard base64 with or without padding.
func decodeBase64(s string) ([]byte, error) {
	return base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
}

// Verify checks that body, with the id and timestamp in headers, carries a
// signature from one of the Verifier's keys and that the timestamp is within
// the tolerance. It returns nil if any space-separated entry of the
// signature header verifies: "v1," entries against the secrets, "v1a,"
// entries against the public keys. Entries of other versions are skipped.
//
// headers may come from a net/http server (canonical names such as
// Webhook-Id) or be built with the spec's lower-case names. body must be the
// raw bytes received, before any JSON decoding.
func (v *Verifier) Verify(headers http.Header, body []byte) error {
	m, err := v.parse(headers)
	if err != nil {
		return err
	}
	return v.match(m, body)
}

// VerifyRequest reads r's body, up to the WithMaxBodyBytes limit, verifies
// it with r's headers as Verify does, and returns it. The headers are checked
// before the body is read, so unsigned and stale requests cost no read. It
// returns ErrBodyTooLarge if the body exceeds the limit.
//
// On success, decode the returned bytes; r.Body has been consumed.
func (v *Verifier) VerifyRequest(r *http.Request) ([]byte, error) {
	m, err := v.parse(r.Header)
	if err != nil {
		return nil, err
	}
	if r.ContentLength > v.maxBody {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrBodyTooLarge, r.ContentLength, v.maxBody)
	}
	var body []byte
	if r.Body != nil {
		body, err = io.ReadAll(io.LimitReader(r.Body, v.maxBody+1))
		if err != nil {
			return nil, fmt.Errorf("verify: read body: %w", err)
		}
		if int64(len(body)) > v.maxBody {
			return nil, fmt.Errorf("%w: limit %d bytes", ErrBodyTooLarge, v.maxBody)
		}
	}
	if err := v.match(m, body); err != nil {
		return nil, err
	}
	return body, nil
}

// message is the parsed header set of one delivery attempt.
type message struct {
	id  string
	ts  string   // the header text, exactly as signed
	sig []string // every value of the signature header
}

// parse reads the three headers, preferring webhook-* over svix-*, and
// checks the timestamp against the tolerance.
func (v *Verifier) parse(h http.Header) (message, error) {
	m := message{id: first(lookup(h, "Webhook-Id", HeaderID))}
	names := [3]string{HeaderID, HeaderTimestamp, HeaderSignature}
	if m.id != "" {
		m.ts = first(lookup(h, "Webhook-Timestamp", HeaderTimestamp))
		m.sig = lookup(h, "Webhook-Signature", HeaderSignature)
	} else if id := first(lookup(h, "Svix-Id", "svix-id")); id != "" {
		names = [3]string{"svix-id", "svix-timestamp", "svix-signature"}
		m.id = id
		m.ts = first(lookup(h, "Svix-Timestamp", "svix-timestamp"))
		m.sig = lookup(h, "Svix-Signature", "svix-signature")
	}
	switch {
	case m.id == "":
		return m, fmt.Errorf("%w: %s", ErrMissingHeaders, names[0])
	case m.ts == "":
		return m, fmt.Errorf("%w: %s", ErrMissingHeaders, names[1])
	case first(m.sig) == "":
		return m, fmt.Errorf("%w: %s", ErrMissingHeaders, names[2])
	}

	sec, ok := parseUnix(m.ts)
	if !ok {
		return m, ErrInvalidTimestamp
	}
	t, now := time.Unix(sec, 0), v.now()
	if age := now.Sub(t); age > v.tolerance {
		return m, fmt.Errorf("%w: signed %s ago, tolerance %s", ErrTimestampTooOld, age, v.tolerance)
	}
	if ahead := t.Sub(now); ahead > v.tolerance {
		return m, fmt.Errorf("%w: %s ahead, tolerance %s", ErrTimestampTooNew, ahead, v.tolerance)
	}
	return m, nil
}

// parseUnix parses decimal Unix seconds: ASCII digits only, no sign, no
// spaces, at most maxTimestampDigits of them.
func parseUnix(s string) (int64, bool) {
	if s == "" || len(s) > maxTimestampDigits {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// lookup returns a header's values under its canonical name, as a net/http
// server stores it, or else under its lower-case name, as a sender that sets
// the map directly stores it.
func lookup(h http.Header, canonical, lower string) []string {
	if vs := h[canonical]; len(vs) > 0 {
		return vs
	}
	return h[lower]
}

// Flags returns the reasons in the webhook-flags header, decoded, in the
// order the gateway's filters flagged the event; nil if it was not flagged.
//
// The gateway writes "<reason>[, <reason>]" with each reason made safe for a
// header: '%', ',', control characters (CR and LF included) and the bytes
// of non-ASCII characters are percent-encoded ("%2C" for a comma). Flags
// splits on commas, trims spaces and decodes each entry; an entry that is
// not valid percent-encoding is returned as it is.
//
// The header is not signed: a flag is a hint for routing or review, not a
// security decision. Call Flags after Verify or VerifyRequest accepted the
// request.
func Flags(h http.Header) []string {
	var out []string
	for _, v := range lookup(h, "Webhook-Flags", HeaderFlags) {
		for entry := range strings.SplitSeq(v, ",") {
			entry = strings.Trim(entry, " \t")
			if entry == "" {
				continue
			}
			if dec, err := url.PathUnescape(entry); err == nil {
				entry = dec
			}
			out = append(out, entry)
		}
	}
	return out
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// match returns nil if any signature entry verifies under any key of its
// scheme. MACs and the contiguous signed content are computed at most once,
// and only if an entry of their scheme is present.
func (v *Verifier) match(m message, body []byte) error {
	var macs [][sha256.Size]byte
	var content []byte
	for _, value := range m.sig {
		for entry := range strings.FieldsSeq(value) {
			version, sig, ok := strings.Cut(entry, ",")
			if !ok {
				continue
			}
			switch version {
			case "v1":
				if len(v.secrets) == 0 || len(sig) != macB64Len {
					continue
				}
				var got [sha256.Size + 1]byte // DecodedLen(44) is 33
				if n, err := base64.StdEncoding.Decode(got[:], []byte(sig)); err != nil || n != sha256.Size {
					continue
				}
				if macs == nil {
					macs = v.macs(m, body)
				}
				for i := range macs {
					if hmac.Equal(got[:sha256.Size], macs[i][:]) {
						return nil
					}
				}
			case "v1a":
				if len(v.publics) == 0 || len(sig) != sigB64Len {
					continue
				}
				var got [ed25519.SignatureSize + 2]byte // DecodedLen(88) is 66
				if n, err := base64.StdEncoding.Decode(got[:], []byte(sig)); err != nil || n != ed25519.SignatureSize {
					continue
				}
				if content == nil {
					content = append(signedPrefix(m, len(body)), body...)
				}
				for _, pub := range v.publics {
					if ed25519.Verify(pub, content, got[:ed25519.SignatureSize]) {
						return nil
					}
				}
			}
		}
	}
	return ErrNoMatchingSignature
}

// macs returns the v1 MAC of the message under each secret.
func (v *Verifier) macs(m message, body []byte) [][sha256.Size]byte {
	prefix := signedPrefix(m, 0)
	out := make([][sha256.Size]byte, len(v.secrets))
	for i, key := range v.secrets {
		h := hmac.New(sha256.New, key)
		h.Write(prefix)
		h.Write(body)
		h.Sum(out[i][:0])
	}
	return out
}

// signedPrefix returns id + "." + timestamp + ".", the part of the signed
// content before the body, with room for extra more bytes.
func signedPrefix(m message, extra int) []byte {
	b := make([]byte, 0, len(m.id)+len(m.ts)+2+extra)
	b = append(b, m.id...)
	b = append(b, '.')
	b = append(b, m.ts...)
	return append(b, '.')
}
