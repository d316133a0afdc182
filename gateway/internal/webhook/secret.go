package webhook

import (
	"bytes"
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

// PublicKey returns the "whpk_" public key of a "whsk_" secret, and "" for
// a symmetric secret.
func PublicKey(s string) string {
	body, ok := strings.CutPrefix(s, AsymmetricPrefix)
	if !ok {
		return ""
	}
	key, err := base64.StdEncoding.DecodeString(body)
	if err != nil || len(key) != ed25519.PrivateKeySize {
		return ""
	}
	return PublicKeyPrefix + base64.StdEncoding.EncodeToString(key[32:])
}

// ValidateSecret checks a signing secret: a "whsec_" secret of 24 to 64
// bytes, or a "whsk_" Ed25519 key whose public half matches its seed.
func ValidateSecret(s string) error {
	if body, ok := strings.CutPrefix(s, AsymmetricPrefix); ok {
		key, err := base64.StdEncoding.DecodeString(body)
		if err != nil || len(key) != ed25519.PrivateKeySize {
			return fmt.Errorf("must be %q followed by the base64 of a 32-byte seed and its 32-byte public key", AsymmetricPrefix)
		}
		if !bytes.Equal(ed25519.NewKeyFromSeed(key[:32])[32:], key[32:]) {
			return fmt.Errorf("the public half of this %q key does not match its seed", AsymmetricPrefix)
		}
		return nil
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

// SecretHint returns a form of the secret that is safe to display: the
// prefix and its last four characters.
func SecretHint(s string) string {
	prefix := SecretPrefix
	if strings.HasPrefix(s, AsymmetricPrefix) {
		prefix = AsymmetricPrefix
	}
	if len(s) < len(prefix)+8 {
		return prefix + "…"
	}
	return prefix + "…" + s[len(s)-4:]
}
