package delivery

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eventgw/gateway/gateway/internal/webhook"
)

// Standard Webhooks header names, spelled as the spec spells them. SetHeaders
// writes them into the header map as is, so they go out in lower case.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// Key prefixes of the asymmetric (v1a) scheme. The symmetric prefix is
// webhook.SecretPrefix ("whsec_").
const (
	SecretKeyPrefix = webhook.AsymmetricPrefix // base64 of the 32-byte Ed25519 seed ‖ 32-byte public key
	PublicKeyPrefix = webhook.PublicKeyPrefix  // base64 of the 32-byte Ed25519 public key
)

// Sentinel errors of the signing keys.
var (
	// ErrNoSigningKeys is returned by NewSigner when it is given no key.
	ErrNoSigningKeys = errors.New("delivery: no signing keys")
	// ErrInvalidSigningKey wraps every reason a signing key is refused. The
	// message never contains key material.
	ErrInvalidSigningKey = errors.New("delivery: invalid signing key")
)

// Key is a signing key in its text form: a symmetric "whsec_" secret, which
// signs with scheme v1 (HMAC-SHA256), or an asymmetric "whsk_" secret key,
// which signs with scheme v1a (Ed25519).
type Key string

// Encoded lengths of one signature entry's value: padded standard base64 of
// a 32-byte MAC and of a 64-byte signature.
const (
	macB64Len = 44
	sigB64Len = 88
)

// maxPooledContent bounds the scratch buffers kept for reuse: a buffer grown
// past it by a large body goes to the garbage collector instead of staying
// pinned in the pool.
const maxPooledContent = 64 << 10

// Signer computes the webhook-signature header value of a message under one
// or more keys. Several keys sign at once during a secret rotation's overlap.
//
// A Signer is immutable after NewSigner and safe for concurrent use. Its
// pools hand each call its own HMAC state and scratch buffer; nothing mutable
// is shared between two calls in flight.
type Signer struct {
	keys []signingKey
	// contiguous is set when a v1a key needs the whole signed content in one
	// buffer; v1 keys hash it in pieces and never copy the body.
	contiguous bool
	// size is the exact length of the header value Sign returns.
	size int
	// content pools *[]byte scratch buffers for the signed content.
	content sync.Pool
}

// signingKey is one parsed key: macs is set for v1, priv for v1a.
type signingKey struct {
	macs *sync.Pool // of *macState keyed with the secret
	priv ed25519.PrivateKey
}

// macState is a keyed HMAC-SHA256 and room for its sum, owned by one Sign
// call at a time.
type macState struct {
	h   hash.Hash
	sum [sha256.Size]byte
}

// NewSigner returns a Signer for the keys, which sign in the order given.
// Every key must pass ValidateSigningKey.
func NewSigner(keys ...Key) (*Signer, error) {
	if len(keys) == 0 {
		return nil, ErrNoSigningKeys
	}
	s := &Signer{keys: make([]signingKey, len(keys))}
	s.size = len(keys) - 1 // the spaces between entries
	for i, k := range keys {
		sk, err := parseKey(string(k))
		if err != nil {
			return nil, fmt.Errorf("%w %d: %w", ErrInvalidSigningKey, i, err)
		}
		s.keys[i] = sk
		if sk.priv != nil {
			s.contiguous = true
			s.size += len("v1a,") + sigB64Len
		} else {
			s.size += len("v1,") + macB64Len
		}
	}
	s.content.New = func() any {
		b := make([]byte, 0, 256)
		return &b
	}
	return s, nil
}

// Sign returns the webhook-signature header value for the message: one
// "v1,<base64 HMAC-SHA256>" or "v1a,<base64 Ed25519 signature>" entry per
// key, in key order, separated by spaces. Each entry signs exactly
// msgID + "." + Unix seconds of ts + "." + body.
//
// msgID must not contain a "." (the Standard Webhooks spec asks this of
// senders, so the signed content splits one way only); the gateway's ids
// never do. body must be the exact bytes sent.
func (s *Signer) Sign(msgID string, ts time.Time, body []byte) string {
	bp := s.content.Get().(*[]byte)
	buf := append((*bp)[:0], msgID...)
	buf = append(buf, '.')
	buf = strconv.AppendInt(buf, ts.Unix(), 10)
	buf = append(buf, '.')
	head := len(buf)
	if s.contiguous {
		buf = append(buf, body...)
	}

	var out strings.Builder
	out.Grow(s.size)
	var enc [sigB64Len]byte // the longer of the two encodings
	for i := range s.keys {
		k := &s.keys[i]
		if i > 0 {
			out.WriteByte(' ')
		}
		if k.priv != nil {
			sig := ed25519.Sign(k.priv, buf)
			base64.StdEncoding.Encode(enc[:], sig)
			out.WriteString("v1a,")
			out.Write(enc[:sigB64Len])
			continue
		}
		m := k.macs.Get().(*macState)
		m.h.Reset()
		m.h.Write(buf[:head])
		m.h.Write(body)
		base64.StdEncoding.Encode(enc[:], m.h.Sum(m.sum[:0]))
		k.macs.Put(m)
		out.WriteString("v1,")
		out.Write(enc[:macB64Len])
	}

	if cap(buf) <= maxPooledContent {
		*bp = buf
		s.content.Put(bp)
	}
	return out.String()
}

// SetHeaders sets the three Standard Webhooks headers on h: webhook-id,
// webhook-timestamp (Unix seconds of ts) and webhook-signature. It writes the
// map entries directly, so the names keep the spec's lower-case spelling on
// the wire instead of Go's canonical Webhook-Id; any canonical-case entries
// already present are removed so that each header goes out once.
//
// Because the names are not canonical, h.Get(HeaderID) does not find them;
// read them back with h[HeaderID]. A receiving net/http server canonicalises
// them as usual.
func SetHeaders(h http.Header, msgID string, ts time.Time, signature string) {
	delete(h, "Webhook-Id")
	delete(h, "Webhook-Timestamp")
	delete(h, "Webhook-Signature")
	v := []string{msgID, strconv.FormatInt(ts.Unix(), 10), signature}
	h[HeaderID] = v[0:1:1]
	h[HeaderTimestamp] = v[1:2:2]
	h[HeaderSignature] = v[2:3:3]
}

// NewAsymmetricKey returns a new random v1a key pair: the "whsk_" secret key
// that a Signer takes, and the "whpk_" public key that receivers verify with.
func NewAsymmetricKey() (secret, public string) {
	secret = webhook.NewAsymmetricSecret()
	return secret, webhook.PublicKey(secret)
}

// PublicKey returns the "whpk_" public key of a "whsk_" secret key.
func PublicKey(whsk string) (string, error) {
	priv, err := webhook.DecodeAsymmetricSecret(whsk)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidSigningKey, err)
	}
	return PublicKeyPrefix + base64.StdEncoding.EncodeToString(priv.Public().(ed25519.PublicKey)), nil
}

// ValidateSigningKey checks a signing key: a "whsec_" secret of 24 to 64
// bytes, or a "whsk_" secret key of exactly 64 bytes whose public half
// matches its seed. Padded and unpadded base64 are both accepted.
func ValidateSigningKey(s string) error {
	if _, err := parseKey(s); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidSigningKey, err)
	}
	return nil
}

// parseKey decodes and checks one key. Its errors say what is wrong without
// repeating the key.
func parseKey(s string) (signingKey, error) {
	switch {
	case strings.HasPrefix(s, webhook.SecretPrefix):
		if err := webhook.ValidateSecret(s); err != nil {
			return signingKey{}, err
		}
		secret, _ := webhook.DecodeSecret(s) // ValidateSecret decoded it already
		pool := &sync.Pool{New: func() any {
			return &macState{h: hmac.New(sha256.New, secret)}
		}}
		return signingKey{macs: pool}, nil
	case strings.HasPrefix(s, SecretKeyPrefix):
		priv, err := webhook.DecodeAsymmetricSecret(s)
		if err != nil {
			return signingKey{}, err
		}
		return signingKey{priv: priv}, nil
	default:
		return signingKey{}, fmt.Errorf("must start with %q or %q", webhook.SecretPrefix, SecretKeyPrefix)
	}
}
