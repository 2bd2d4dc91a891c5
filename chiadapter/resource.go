package chiadapter

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/pyramid-go/jwtauth/authorizer"
)

// ErrNotFound is what a ResourceFinder returns when the request names no
// resource: the request is answered 404.
var ErrNotFound = errors.New("chiadapter: resource not found")

// ResourceFinder finds the request's context resource, Pyramid's root
// factory: for example from chi URL parameters, under parent, the context
// set by the middleware above (nil when there is none).
type ResourceFinder func(r *http.Request, parent authorizer.Resource) (authorizer.Resource, error)

type resourceKey struct{}

// Resource returns r's context resource, or nil.
func Resource(r *http.Request) authorizer.Resource {
	res, _ := r.Context().Value(resourceKey{}).(authorizer.Resource)
	return res
}

// Context returns middleware that sets the request's context resource to
// what find returns. ErrNotFound is answered 404; any other error 500,
// logged with slog.
//
// A finder reads chi URL parameters with [URLParam], not chi.URLParam:
// chi matches on the escaped path when the request has one, so that
// chi.URLParam is "%73ecret" for /articles/%73ecret, which would not be the
// resource "secret" and would escape that resource's ACL. URLParam decodes
// each value exactly once, and its error for a value that does not decode
// is ErrNotFound, for the finder to return.
func Context(find ResourceFinder) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			res, err := find(r, Resource(r))
			switch {
			case errors.Is(err, ErrNotFound):
				writeError(w, http.StatusNotFound, "not found")
				return
			case err != nil:
				slog.ErrorContext(r.Context(), "chiadapter: cannot find the context resource", "error", err, "path", r.URL.Path)
				writeError(w, http.StatusInternalServerError, "internal error")
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), resourceKey{}, res)))
		})
	}
}

// StaticACL returns middleware that makes a resource named name, holding
// acl, the context of a group of routes; a Context below it finds its
// resources under this one.
func StaticACL(name string, acl authorizer.ACL) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			res := authorizer.NewNode(name, Resource(r), acl)
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), resourceKey{}, res)))
		})
	}
}
