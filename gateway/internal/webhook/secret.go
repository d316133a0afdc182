package webhook

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
)

// SecretPrefix marks a Standard Webhooks symmetric secret.
const SecretPrefix = "whsec_"

// Secret sizes, in decoded bytes, that the Standard Webhooks spec allows.
const (
	MinSecretBytes = 24
	MaxSecretBytes = 64
	newSecretBytes = 32
)

// NewSecret returns "whsec_" followed by the base64 of 32 random bytes.
func NewSecret() string {
	b := make([]byte, newSecretBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// DecodeSecret returns the key bytes of a "whsec_" secret. Padded and
// unpadded base64 are both accepted.
func DecodeSecret(s string) ([]byte, error) {
	body, ok := strings.CutPrefix(s, SecretPrefix)
	if !ok {
		return nil, fmt.Errorf("must start with %q", SecretPrefix)
	}
	key, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(body, "="))
	if err != nil {
		return nil, fmt.Errorf("must be %q followed by base64", SecretPrefix)
	}
	return key, nil
}

// AsymmetricPrefix marks a Standard Webhooks Ed25519 signing key (v1a):
// base64 of the 32-byte seed followed by the 32-byte public key.
const AsymmetricPrefix = "whsk_"

// PublicKeyPrefix marks the public half of an asymmetric key.
const PublicKeyPrefix = "whpk_"

// NewAsymmetricSecret returns a fresh "whsk_" Ed25519 signing key.
func NewAsymmetricSecret() string {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	return AsymmetricPrefix + base64.StdEncoding.EncodeToString(priv)
}

// DecodeAsymmetricSecret decodes a "whsk_" key: the 32-byte Ed25519 seed
// followed by the 32-byte public key, which must be the one the seed
// derives. Padded and unpadded base64 are both accepted. Its errors never
// repeat the key.
func DecodeAsymmetricSecret(s string) (ed25519.PrivateKey, error) {
	body, ok := strings.CutPrefix(s, AsymmetricPrefix)
	if !ok {
		return nil, fmt.Errorf("must start with %q", AsymmetricPrefix)
	}
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(body, "="))
	if err != nil {
		return nil, fmt.Errorf("must be %q followed by base64", AsymmetricPrefix)
	}
	if len(raw) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%q key must decode to %d bytes (seed and public key), got %d", AsymmetricPrefix, ed25519.PrivateKeySize, len(raw))
	}
	priv := ed25519.NewKeyFromSeed(raw[:ed25519.SeedSize])
	if !priv.Equal(ed25519.PrivateKey(raw)) {
		return nil, fmt.Errorf("%q key's public half does not match its seed", AsymmetricPrefix)
	}
	return priv, nil
}

// PublicKey returns the "whpk_" public key of a "whsk_" secret, and "" for
// anything else.
func PublicKey(s string) string {
	priv, err := DecodeAsymmetricSecret(s)
	if err != nil {
		return ""
	}
	return PublicKeyPrefix + base64.StdEncoding.EncodeToString(priv.Public().(ed25519.PublicKey))
}

// ValidateSecret checks a signing secret: a "whsec_" secret of 24 to 64
// bytes, or a "whsk_" Ed25519 key whose public half matches its seed.
func ValidateSecret(s string) error {
	if strings.HasPrefix(s, AsymmetricPrefix) {
		_, err := DecodeAsymmetricSecret(s)
		return err
	}
	key, err := DecodeSecret(s)
	if err != nil {
		return err
	}
	if len(key) < MinSecretBytes || len(key) > MaxSecretBytes {
		return fmt.Errorf("must decode to %d to %d bytes, got %d", MinSecretBytes, MaxSecretBytes, len(key))
	}
	return nil
}

// VerificationKey returns the key a receiver verifies a webhook's
// signatures with: a "whsec_" secret itself (v1 is symmetric), or the
// "whpk_" public key of a "whsk_" signing key (v1a). The "whsk_" private
// key is the gateway's alone: it is never returned.
func VerificationKey(s string) string {
	if strings.HasPrefix(s, AsymmetricPrefix) {
		return PublicKey(s)
	}
	return s
}

// SecretHint returns a form of the secret that is safe to display: the
// prefix and the last four characters of its verification key ("whsec_…abcd",
// or "whpk_…abcd" for a "whsk_" key, whose private half is never shown).
func SecretHint(s string) string {
	prefix := SecretPrefix
	if strings.HasPrefix(s, AsymmetricPrefix) {
		prefix, s = PublicKeyPrefix, PublicKey(s)
	}
	if len(s) < len(prefix)+8 {
		return prefix + "…"
	}
	return prefix + "…" + s[len(s)-4:]
}
