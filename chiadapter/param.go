package chiadapter

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"
)

// URLParam returns the chi URL parameter key of r, percent-decoded exactly
// once. Read a resource's name with it, not with chi.URLParam (nor
// r.PathValue, which chi fills with the same values).
//
// chi routes on r.URL.RawPath, the path as the client escaped it, when the
// URL has one (Go sets it only when that escaping is not the default one),
// and on the decoded r.URL.Path otherwise; a mounted subrouter routes on
// what is left of the same string. So chi.URLParam is "%73ecret" for
// /articles/%73ecret, which names the article "secret" and must meet its
// ACL, but "%73ecret" for /articles/%2573ecret too, which names the
// article "%73ecret" and must not be decoded again. URLParam decodes the
// value when chi routed on RawPath and returns it as it is otherwise. A
// value may then hold a "/" (from %2F).
//
// A value that does not decode matches ErrNotFound, so that a finder that
// returns the error answers 404, never another resource's name. A key the
// route does not have, or a request chi did not route, is an error that
// does not match ErrNotFound (Context answers it 500).
//
// Middleware that has chi route on r.URL.Path while the URL has a RawPath
// defeats the rule: chi's StripSlashes and URLFormat on the top router do,
// for a path with a trailing slash or an extension, and URLParam would
// decode their values twice. RedirectSlashes does it another way: it
// redirects to the decoded path, which the client then sends escaped
// once less. CleanPath, GetHead and Mount keep chi's choice.
func URLParam(r *http.Request, key string) (string, error) {
	rctx := chi.RouteContext(r.Context())
	if rctx == nil {
		return "", fmt.Errorf("chiadapter: URL parameter %q of a request chi did not route", key)
	}
	params := rctx.URLParams
	for i := len(params.Keys) - 1; i >= 0; i-- { // the innermost, as chi.URLParam
		if params.Keys[i] != key || i >= len(params.Values) {
			continue
		}
		v := params.Values[i]
		if r.URL.RawPath == "" {
			return v, nil // routed on Path: decoded already
		}
		decoded, err := url.PathUnescape(v)
		if err != nil {
			return "", fmt.Errorf("%w: URL parameter %q is not a valid escape", ErrNotFound, key)
		}
		return decoded, nil
	}
	return "", fmt.Errorf("chiadapter: the route has no URL parameter %q", key)
}
