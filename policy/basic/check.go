package basic

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"slices"
)

// ConstantTimeEqual tells whether a and b are equal without returning
// early on a difference of contents or of lengths: it compares their
// SHA-256 digests with crypto/subtle.ConstantTimeCompare, which, given
// a and b themselves, returns at once when their lengths differ and so
// tells the length of a stored password. Hashing still takes time in
// proportion to the lengths, far less telling; Passwords, which keeps
// its users' digests, hashes only the password sent.
func ConstantTimeEqual(a, b string) bool {
	da, db := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(da[:], db[:]) == 1
}

// Passwords returns a check of static users, for tests, demonstrations
// and small internal tools: it accepts each username that passwords
// holds, with its password, and gives it the groups that groups holds for
// it (none when groups has no entry). Both maps are copied; the passwords are kept as SHA-256 digests
// and compared in constant time, and an unknown username costs what a
// known one does. Digests of plain passwords are no password store: an
// application that keeps its users' passwords keeps them with a password
// hash (bcrypt, argon2id) and writes its own Check.
func Passwords(passwords map[string]string, groups map[string][]string) Check {
	digests := make(map[string][sha256.Size]byte, len(passwords))
	for user, password := range passwords {
		digests[user] = sha256.Sum256([]byte(password))
	}
	groupsOf := make(map[string][]string, len(groups))
	for user, g := range groups {
		groupsOf[user] = slices.Clone(g)
	}
	// The digest an unknown username is compared with: a random password's,
	// in effect, since no password has the all-zero digest.
	var none [sha256.Size]byte
	return func(username, password string, _ *http.Request) ([]string, bool) {
		want, known := digests[username]
		if !known {
			want = none
		}
		got := sha256.Sum256([]byte(password))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 || !known {
			return nil, false
		}
		return slices.Clone(groupsOf[username]), true
	}
}
