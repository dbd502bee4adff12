package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Argon2Params are the cost parameters of argon2id.
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen int
	KeyLen  uint32
}

// PasswordParams are OWASP's recommended minimum for argon2id (Password
// Storage Cheat Sheet): 19 MiB, 2 passes, 1 thread; about 30 ms per hash
// here. Stored hashes carry their parameters, so raising these later only
// makes new and re-hashed passwords costlier; Login re-hashes older ones.
var PasswordParams = Argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Password length bounds: at least 12 characters (OWASP ASVS 2.1.1); at
// most 1024 bytes so nobody can make the server hash megabytes.
const (
	MinPasswordLen   = 12
	maxPasswordBytes = 1024
)

// ValidatePassword says what is wrong with a new password, or nil.
func ValidatePassword(pw string) error {
	if !utf8.ValidString(pw) {
		return invalid("password: not valid UTF-8")
	}
	if n := utf8.RuneCountInString(pw); n < MinPasswordLen {
		return invalid(fmt.Sprintf("password: at least %d characters, got %d", MinPasswordLen, n))
	}
	if len(pw) > maxPasswordBytes {
		return invalid(fmt.Sprintf("password: at most %d bytes", maxPasswordBytes))
	}
	return nil
}

// HashPassword hashes pw with argon2id and a random salt, in PHC string
// format: $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> (unpadded base64).
func HashPassword(pw string) (string, error) {
	return hashWith(pw, PasswordParams)
}

func hashWith(pw string, p Argon2Params) (string, error) {
	if len(pw) > maxPasswordBytes {
		return "", invalid(fmt.Sprintf("password: at most %d bytes", maxPasswordBytes))
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// ErrBadHash means a stored password hash is not an argon2id PHC string
// this package can check.
var ErrBadHash = errors.New("password hash is not an argon2id PHC string")

// phc is a parsed argon2id PHC string.
type phc struct {
	params Argon2Params
	salt   []byte
	key    []byte
}

// Bounds that keep a forged or corrupted hash from costing more than a
// strong real one.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 100
)

// parsePHC reads $argon2id$v=19$m=M,t=T,p=P$salt$hash.
func parsePHC(s string) (phc, error) {
	var h phc
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return h, ErrBadHash
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return h, fmt.Errorf("%w: version %q", ErrBadHash, parts[2])
	}
	var m, t, p uint64
	seen := 0
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return h, ErrBadHash
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return h, ErrBadHash
		}
		switch k {
		case "m":
			m, seen = n, seen|1
		case "t":
			t, seen = n, seen|2
		case "p":
			p, seen = n, seen|4
		default:
			return h, ErrBadHash
		}
	}
	if seen != 7 || m < 8 || m > maxMemoryKiB || t < 1 || t > maxTime || p < 1 || p > 255 || m < 8*p {
		return h, fmt.Errorf("%w: parameters %q", ErrBadHash, parts[3])
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil || len(salt) < 8 || len(salt) > 64 {
		return h, fmt.Errorf("%w: salt", ErrBadHash)
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 128 {
		return h, fmt.Errorf("%w: hash", ErrBadHash)
	}
	h.params = Argon2Params{Memory: uint32(m), Time: uint32(t), Threads: uint8(p), SaltLen: len(salt), KeyLen: uint32(len(key))}
	h.salt, h.key = salt, key
	return h, nil
}

// VerifyPassword checks pw against a stored PHC hash in constant time. It
// reports whether the hash should be renewed because its parameters are
// weaker than PasswordParams.
func VerifyPassword(hash, pw string) (ok, rehash bool, err error) {
	h, err := parsePHC(hash)
	if err != nil {
		return false, false, err
	}
	if len(pw) > maxPasswordBytes {
		return false, false, nil
	}
	got := argon2.IDKey([]byte(pw), h.salt, h.params.Time, h.params.Memory, h.params.Threads, h.params.KeyLen)
	if subtle.ConstantTimeCompare(got, h.key) != 1 {
		return false, false, nil
	}
	p := PasswordParams
	rehash = h.params.Memory < p.Memory || h.params.Time < p.Time || h.params.KeyLen < p.KeyLen || len(h.salt) < p.SaltLen
	return true, rehash, nil
}

var (
	dummyOnce sync.Once
	dummyHash string
)

// burnHash spends the time of one password check, so that an unknown
// e-mail address takes as long to refuse as a wrong password.
func burnHash(pw string) {
	dummyOnce.Do(func() { dummyHash, _ = HashPassword("kunding dummy password for timing") })
	VerifyPassword(dummyHash, pw)
}
