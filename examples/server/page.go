package main

import (
	"embed"
	"net/http"

	"github.com/go-chi/chi/v5"
)

// web holds the example's page: index.html (GET /), its script app.js and
// its style sheet app.css, and login-failed.html, the answer to a form
// login that fails. No framework, no build step, nothing from elsewhere.
//
//go:embed web/index.html web/app.js web/app.css web/login-failed.html
var web embed.FS

// pageCSP is the Content-Security-Policy of the example's HTML: nothing
// but the page's own script and style sheet, fetches to its own origin and
// forms posted to it; no inline script, no frames, no base URL.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// asset returns the handler that serves the embedded file name with
// contentType and status: the HTML with pageCSP, everything with nosniff
// and revalidated on each use (the server's build is its version).
func asset(name, contentType string, status int) http.HandlerFunc {
	body, err := web.ReadFile("web/" + name)
	if err != nil {
		panic("examples/server: the embedded " + name + " is missing: " + err.Error())
	}
	return func(w http.ResponseWriter, r *http.Request) {
		writeAsset(w, contentType, status, body)
	}
}

// writeAsset writes body, an embedded file, with its headers (see asset).
func writeAsset(w http.ResponseWriter, contentType string, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache")
	h.Set("Referrer-Policy", "same-origin")
	if contentType == htmlType {
		h.Set("Content-Security-Policy", pageCSP)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// htmlType is the Content-Type of the page's HTML.
const htmlType = "text/html; charset=utf-8"

// loginFailed answers a form login with an unknown user or a wrong
// password: 401 and a page that says so, without WWW-Authenticate (the
// form's navigation must not open the browser's password dialog) and
// without a cookie.
var loginFailed = asset("login-failed.html", htmlType, http.StatusUnauthorized)

// routePage adds the page's routes to r: GET / (the HTML), /app.js and
// /app.css.
func routePage(r chi.Router) {
	r.Get("/", asset("index.html", htmlType, http.StatusOK))
	r.Get("/app.js", asset("app.js", "text/javascript; charset=utf-8", http.StatusOK))
	r.Get("/app.css", asset("app.css", "text/css; charset=utf-8", http.StatusOK))
}
