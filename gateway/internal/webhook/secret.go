package webhook

import (
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

// ValidateSecret checks the format and size of a "whsec_" secret.
func ValidateSecret(s string) error {
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
	if len(s) < len(SecretPrefix)+8 {
		return SecretPrefix + "…"
	}
	return SecretPrefix + "…" + s[len(s)-4:]
}
