package keyset

import (
	"errors"
	"time"
)

// SetClock sets the clock of o's rate limit (the time an unknown kid waits
// for since the last fetch).
func SetClock(o *Options, now func() time.Time) { o.now = now }

// NextDelay is the delay before the next background fetch of a set built
// with o, after a fetch that found maxAge (-1: none), or that failed for the
// failures-th time in a row.
func NextDelay(o Options, maxAge time.Duration, failures int) time.Duration {
	o, err := o.withDefaults()
	if err != nil {
		panic(err)
	}
	s := &Set{o: o}
	if failures > 0 {
		err = errors.New("failed")
	}
	return s.nextDelay(result{maxAge: maxAge}, err, failures)
}

// MaxAge reads the max-age of a Cache-Control header.
var MaxAge = maxAge
