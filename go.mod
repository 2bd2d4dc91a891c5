module github.com/pyramid-go/jwtauth

go 1.26.0

require (
	filippo.io/edwards25519 v1.2.0
	github.com/chromedp/cdproto v0.160.1
	github.com/chromedp/chromedp v0.23.1
	github.com/go-chi/chi/v5 v5.5.0
	github.com/go-jose/go-jose/v4 v4.1.9
	github.com/go-json-experiment/json v1.27.2
	github.com/maypok86/otter/v2 v2.4.0
	github.com/redis/rueidis v1.0.80
	github.com/titanous/rocacheck v0.0.0-20171023193734-afe73141d399
	gopkg.in/ini.v1 v1.68.0
)

require golang.org/x/sys v0.50.0 // indirect

ignore ./internal/oidctest/provider/node_modules
