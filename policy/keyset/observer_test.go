package keyset_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/keyset"
)

// quiet discards the logs.
var quiet = slog.New(slog.DiscardHandler)

// fetches records the key-set fetches an Observer is told of.
type fetches struct {
	mu  sync.Mutex
	got []string
}

func (f *fetches) observer() *policy.Observer {
	return &policy.Observer{KeySetFetched: func(source string, ok bool) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.got = append(f.got, fmt.Sprintf("%s %v", source, ok))
	}}
}

func (f *fetches) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	got := f.got
	f.got = nil
	return got
}

// TestObserverFetches: each fetch of a key set is reported once, with
// its outcome and its source without credentials or query, over real
// HTTP: a provider that serves its key set, then fails.
func TestObserverFetches(t *testing.T) {
	a := ecSigner(0, "key-a")
	var failing atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(jwksJSON(t, a))
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	u.User = url.UserPassword("client", "hunter2")
	u.Path, u.RawQuery = "/jwks", "api_key=s3cret"

	var f fetches
	clock := newClock()
	o := keyset.Options{Observer: f.observer(), Logger: quiet, MinRefresh: time.Minute}
	keyset.SetClock(&o, clock.now)
	set, err := keyset.NewURL(u.String(), "", o)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	source := srv.URL + "/jwks"
	if got, want := f.take(), []string{source + " true"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("the first fetch: %q, want %q", got, want)
	}

	// An unknown kid fetches again, when the rate limit allows: it fails.
	failing.Store(true)
	clock.advance(time.Minute)
	p, err := policy.NewJWT(policy.Config{KeySets: []policy.KeySet{set}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if v := p.Verifier().Verify(t.Context(), ecSigner(1, "key-x").token(t, claimsFor(""), nil)); v.Err == nil {
		t.Fatal("a token of an unknown key verified")
	}
	got := f.take()
	if want := []string{source + " false"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("the failed fetch: %q, want %q", got, want)
	}
	for _, s := range got {
		if strings.Contains(s, "hunter2") || strings.Contains(s, "s3cret") || strings.Contains(s, "client") {
			t.Errorf("the source %q holds the credentials or the query", s)
		}
	}

	// A file: read at the start, not when a poll finds it unchanged.
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, jwksJSON(t, a), 0o600); err != nil {
		t.Fatal(err)
	}
	fileSet, err := keyset.NewFile(path, "", keyset.Options{Observer: f.observer(), Logger: quiet, FilePoll: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer fileSet.Close()
	time.Sleep(50 * time.Millisecond) // some polls
	if got, want := f.take(), []string{path + " true"}; !reflect.DeepEqual(got, want) {
		t.Errorf("a file read once and polled: %q, want %q", got, want)
	}
}
