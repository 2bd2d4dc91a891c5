package redisrevocation

import "unsafe"

// unsafeString is b's bytes as a string, without a copy, for a key that is
// only looked up while b is not written (see Store.peek).
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
