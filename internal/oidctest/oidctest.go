// Package oidctest runs a real OpenID provider for tests: [Start] starts
// Node's oidc-provider (the npm package, at the exact versions of
// provider/package-lock.json) on a free port of 127.0.0.1 and stops it when
// the test ends, and [Provider.Token] gets access tokens from it with the
// client credentials grant: JWTs in RFC 9068's profile (typ at+jwt), for one
// resource server, bound to a key of the caller's with DPoP (RFC 9449,
// cnf.jkt) when the caller gives a proof, or Bearer tokens when not. Only
// _test.go files import it.
//
// The provider is provider/provider.mjs, which reads its settings from the
// environment (see that file): one confidential client, whose id and secret
// are the [Options]', with the client_credentials grant; one resource server
// (the resource indicator is the tokens' aud, and the default of every token
// request) with the scopes "articles:read articles:write" by default; a
// signing key (ES256 by default) made at start and published at /jwks; DPoP,
// with nonces required when [Options].RequireDPoPNonce asks. The issuer is
// http://127.0.0.1:<port>.
//
// Node is the binary named by the environment variable NODE, else
// /usr/bin/node, else node on PATH; oidc-provider is npm ci's install in
// provider/node_modules, which scripts/ensure-oidc-provider.sh makes (make
// test runs it first, as make oidc). A test that finds no node, or no
// node_modules installed from the lockfile as it is now (the script leaves a
// stamp, which is checked), fails, naming the script;
// JWTAUTHTEST_SKIP_OIDC=1 skips the tests instead.
//
// DPoP proofs are the caller's: [Provider.Token] takes a function that makes
// one for a method, a URL and a nonce, so that the harness depends on neither
// go-jose nor the library under test. When the provider answers
// use_dpop_nonce, Token asks the function again with the nonce the provider
// gave, once.
//
// Each provider is the test's own. It is chosen a port by listening on
// 127.0.0.1:0 and closing, retried with another when something else takes it
// first; starting waits, bounded by [StartTimeout], until the discovery
// document answers with the expected issuer and with an instance id made for
// this start, so that a test never talks to another process on the port
// (another test binary's provider, say). The process runs in a process group
// of its own, with a pipe on its standard input that it exits at the end of
// (and, on Linux, a signal from the kernel should the test binary die). At
// the end of the test it is stopped (SIGTERM, then SIGKILL past
// [StopTimeout]) and the test fails if any process of its group outlives
// that; a failed test gets the provider's log.
package oidctest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pyramid-go/jwtauth/internal/testbin"
	"github.com/pyramid-go/jwtauth/internal/testproc"
)

// SkipEnv is the environment variable that, set to 1, makes [Start] skip the
// test instead of starting a provider.
const SkipEnv = "JWTAUTHTEST_SKIP_OIDC"

// NodeEnv is the environment variable that names the node binary to use,
// ahead of /usr/bin/node and PATH.
const NodeEnv = "NODE"

// Script is what installs oidc-provider, as the messages name it.
const Script = "scripts/ensure-oidc-provider.sh (make oidc)"

// StartTimeout bounds a start, until the discovery document answers. Node
// and oidc-provider start in about a third of a second; a busy machine under
// the race detector can take far longer.
const StartTimeout = 30 * time.Second

// StopTimeout bounds a graceful stop; past it the provider is killed.
const StopTimeout = 10 * time.Second

// RequestTimeout bounds each HTTP request of the harness to the provider.
const RequestTimeout = 10 * time.Second

// stampFile is the file, in node_modules, where the script writes the
// SHA-256 of package.json followed by package-lock.json after npm ci.
const stampFile = ".jwtauth-stamp"

var node = testbin.Program{
	Name:        "node",
	PathEnv:     NodeEnv,
	DefaultPath: "/usr/bin/node",
	Package:     "nodejs",
	Script:      Script,
	SkipEnv:     SkipEnv,
	Tests:       "OpenID provider tests",
	Skipping:    "not starting oidc-provider",
}

// Options are the settings of a provider; the zero value is the defaults.
type Options struct {
	// ClientID and ClientSecret are the client's credentials: by default
	// "jwtauth-test-client" and a random secret.
	ClientID, ClientSecret string
	// Resource is the resource indicator of the one resource server, also
	// the tokens' aud (default "https://api.example.test").
	Resource string
	// Scopes are the resource server's scopes, and the client's,
	// space-separated (default "articles:read articles:write").
	Scopes string
	// Alg is the tokens' signing algorithm: ES256 (the default), RS256,
	// PS256 or EdDSA.
	Alg string
	// TokenTTL is the tokens' lifetime, in whole seconds (default 5 minutes).
	TokenTTL time.Duration
	// RequireDPoPNonce makes the provider refuse a DPoP proof without a
	// nonce of its own (use_dpop_nonce, with a DPoP-Nonce header).
	RequireDPoPNonce bool
}

// Default values of [Options].
const (
	DefaultClientID = "jwtauth-test-client"
	DefaultResource = "https://api.example.test"
	DefaultScopes   = "articles:read articles:write"
	DefaultAlg      = "ES256"
	DefaultTokenTTL = 5 * time.Minute
)

// ProofFunc makes a DPoP proof (a compact JWS, typ dpop+jwt) for a request
// with method to url, carrying nonce when nonce is not empty.
type ProofFunc func(method, url, nonce string) string

// Provider is one oidc-provider for one test. Its methods that take a
// testing.TB fail that test when they cannot do what they say, so call them
// from the test's goroutine; the others may be called from any goroutine.
type Provider struct {
	t        testing.TB
	opts     Options
	dir      string
	port     int
	instance string
	client   *http.Client

	mu       sync.Mutex
	proc     *process // nil when stopped
	launches int
}

// process is one start of oidc-provider, and the pipe on its standard
// input.
type process struct {
	*testproc.Process
	stdin io.WriteCloser
}

// started is pr's program, nil when there is none (pr nil: stopped).
func (pr *process) started() *testproc.Process {
	if pr == nil {
		return nil
	}
	return pr.Process
}

// name is how the messages of [testproc] name the harness and the provider.
var name = testproc.Name{Harness: "oidctest", Program: "oidc-provider"}

// Start starts an oidc-provider for the test t and returns it once its
// discovery document answers. It is stopped by t.Cleanup. With
// JWTAUTHTEST_SKIP_OIDC=1 the test is skipped; without node or without
// oidc-provider installed from the lockfile, it fails, naming the script.
func Start(t testing.TB, opts Options) *Provider {
	t.Helper()
	bin := testbin.Require(t, node)
	providerDir, err := ProviderDir()
	if err != nil {
		t.Fatalf("oidctest: %v", err)
	}
	if err := checkInstall(providerDir); err != nil {
		t.Fatalf("oidctest: %v; run %s, or set %s=1 to skip the %s", err, Script, SkipEnv, node.Tests)
	}
	if opts.ClientID == "" {
		opts.ClientID = DefaultClientID
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = rand.Text()
	}
	if opts.Resource == "" {
		opts.Resource = DefaultResource
	}
	if opts.Scopes == "" {
		opts.Scopes = DefaultScopes
	}
	if opts.Alg == "" {
		opts.Alg = DefaultAlg
	}
	if opts.TokenTTL == 0 {
		opts.TokenTTL = DefaultTokenTTL
	}
	if opts.TokenTTL < time.Second || opts.TokenTTL%time.Second != 0 {
		t.Fatalf("oidctest: TokenTTL %v is not a whole number of seconds", opts.TokenTTL)
	}
	p := &Provider{
		t:        t,
		opts:     opts,
		dir:      t.TempDir(),
		instance: rand.Text(),
		client: &http.Client{
			Timeout:   RequestTimeout,
			Transport: &http.Transport{Proxy: nil, DisableCompression: true},
		},
	}
	t.Cleanup(p.cleanup) // after t.TempDir's, so it runs before the directory goes

	start := time.Now()
	testproc.OnFreePort(t, name, func(port int) error {
		proc, err := p.launch(bin, providerDir, port)
		if err == nil {
			p.mu.Lock()
			p.port, p.proc = port, proc
			p.mu.Unlock()
		}
		return err
	})
	t.Logf("oidctest: oidc-provider at %s (%s), started in %v", p.Issuer(), opts.Alg, time.Since(start).Round(time.Millisecond))
	return p
}

// ProviderDir returns the directory of provider.mjs and its node_modules:
// internal/oidctest/provider under the module root, the nearest directory
// above the working directory (a test's is its package's) that holds go.mod.
func ProviderDir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, "internal", "oidctest", "provider")
			if _, err := os.Stat(filepath.Join(p, "provider.mjs")); err != nil {
				return "", fmt.Errorf("no provider.mjs in the module at %s: %w", dir, err)
			}
			return p, nil
		}
		if filepath.Dir(dir) == dir {
			return "", errors.New("no go.mod above " + wd)
		}
	}
}

// checkInstall checks that node_modules holds oidc-provider as npm ci
// installed it from the package.json and package-lock.json there now.
func checkInstall(dir string) error {
	var both []byte
	for _, f := range []string{"package.json", "package-lock.json"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return err
		}
		both = append(both, b...)
	}
	sum := sha256.Sum256(both)
	modules := filepath.Join(dir, "node_modules")
	if _, err := os.Stat(filepath.Join(modules, "oidc-provider", "package.json")); err != nil {
		return fmt.Errorf("oidc-provider is not installed in %s", modules)
	}
	stamp, err := os.ReadFile(filepath.Join(modules, stampFile))
	if err != nil || strings.TrimSpace(string(stamp)) != hex.EncodeToString(sum[:]) {
		return fmt.Errorf("%s was not installed from package-lock.json as it is now", modules)
	}
	return nil
}

// exitPortTaken is provider.mjs's exit status when the port is in use.
const exitPortTaken = 3

// launch runs provider.mjs on port and waits until it answers.
func (p *Provider) launch(bin, providerDir string, port int) (*process, error) {
	p.launches++
	cmd := exec.Command(bin, filepath.Join(providerDir, "provider.mjs"))
	cmd.Dir = providerDir
	cmd.Env = append(os.Environ(),
		"OIDCTEST_PORT="+strconv.Itoa(port),
		"OIDCTEST_CLIENT_ID="+p.opts.ClientID,
		"OIDCTEST_CLIENT_SECRET="+p.opts.ClientSecret,
		"OIDCTEST_RESOURCE="+p.opts.Resource,
		"OIDCTEST_SCOPES="+p.opts.Scopes,
		"OIDCTEST_ALG="+p.opts.Alg,
		"OIDCTEST_TOKEN_TTL="+strconv.Itoa(int(p.opts.TokenTTL/time.Second)),
		"OIDCTEST_DPOP_NONCE="+map[bool]string{true: "1", false: "0"}[p.opts.RequireDPoPNonce],
		"OIDCTEST_INSTANCE="+p.instance,
		"NO_COLOR=1",
	)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	tp, err := testproc.Start(name, cmd, p.logPath(p.launches))
	if err != nil {
		return nil, err
	}
	proc := &process{Process: tp, stdin: stdin}
	issuer := "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	err = proc.AwaitReady(StartTimeout, 20*time.Millisecond,
		func() error { return p.ready(issuer) },
		func(waitErr error, _ string) bool {
			var exit *exec.ExitError
			return errors.As(waitErr, &exit) && exit.ExitCode() == exitPortTaken
		})
	if err != nil {
		stdin.Close()
		return nil, err
	}
	return proc, nil
}

// logPath is the path of the log of the provider's nth start.
func (p *Provider) logPath(n int) string {
	return filepath.Join(p.dir, fmt.Sprintf("oidc-provider-%d.log", n))
}

// ready fetches the discovery document of issuer and checks that it is this
// start's provider's.
func (p *Provider) ready(issuer string) error {
	var doc struct {
		Issuer   string `json:"issuer"`
		Instance string `json:"oidctest_instance"`
	}
	if err := p.getJSON(issuer+"/.well-known/openid-configuration", &doc); err != nil {
		return err
	}
	if doc.Issuer != issuer || doc.Instance != p.instance {
		return fmt.Errorf("the provider at %s is another one (issuer %q, instance %q)", issuer, doc.Issuer, doc.Instance)
	}
	return nil
}

func (p *Provider) getJSON(u string, v any) error {
	resp, err := p.client.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return json.Unmarshal(body, v)
}

// Stop stops the provider (SIGTERM, then SIGKILL past [StopTimeout]) and
// waits for it to exit, for tests of a provider that has gone away; the
// test fails if a process of its group outlives that. It does nothing when
// the provider is stopped already.
func (p *Provider) Stop() {
	p.t.Helper()
	p.mu.Lock()
	proc := p.proc
	p.proc = nil
	p.mu.Unlock()
	if proc == nil {
		return
	}
	defer proc.stdin.Close()
	proc.Stop(p.t, syscall.SIGTERM, StopTimeout)
}

// Running reports whether the provider has been started and not stopped,
// and its process is still there.
func (p *Provider) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.proc.started().Running()
}

// PID is the process id of the running provider (node), or 0.
func (p *Provider) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.proc.started().Pid()
}

// cleanup stops the provider at the end of the test; a failed test gets its
// log.
func (p *Provider) cleanup() {
	p.Stop()
	p.client.CloseIdleConnections()
	if p.t.Failed() && p.launches > 0 {
		p.t.Logf("oidctest: oidc-provider's log:\n%s", testproc.TailN(p.Log(), 8000))
	}
}

// Log returns the log (standard output and error) of the provider's starts
// so far, each under a header: a line per request, the errors of token
// requests, oidc-provider's own warnings.
func (p *Provider) Log() string { return testproc.Logs("oidc-provider start", p.launches, p.logPath) }

// Issuer is the provider's issuer identifier, http://127.0.0.1:port, also
// its base URL.
func (p *Provider) Issuer() string {
	return "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port))
}

// DiscoveryURL is the URL of the provider's OpenID Connect discovery
// document.
func (p *Provider) DiscoveryURL() string { return p.Issuer() + "/.well-known/openid-configuration" }

// JWKSURL is the URL of the provider's JSON Web Key Set: the public key that
// signs its tokens.
func (p *Provider) JWKSURL() string { return p.Issuer() + "/jwks" }

// TokenURL is the URL of the provider's token endpoint, the htu of the
// proofs that [Provider.Token] asks for.
func (p *Provider) TokenURL() string { return p.Issuer() + "/token" }

// Audience is the tokens' aud: the resource server's resource indicator.
func (p *Provider) Audience() string { return p.opts.Resource }

// ClientID is the client's id, the tokens' client_id and sub.
func (p *Provider) ClientID() string { return p.opts.ClientID }

// ClientSecret is the client's secret.
func (p *Provider) ClientSecret() string { return p.opts.ClientSecret }

// Alg is the algorithm of the provider's signing key.
func (p *Provider) Alg() string { return p.opts.Alg }

// TokenResponse is the token endpoint's answer to a successful request.
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"` // "DPoP" for a token bound to the proof's key, else "Bearer"
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope"`
	// Nonce is the DPoP nonce the accepted proof carried, "" when it
	// carried none.
	Nonce string `json:"-"`
}

// TokenError is the token endpoint's answer to a refused request (RFC 6749
// section 5.2).
type TokenError struct {
	Status      int
	Code        string // error: "invalid_dpop_proof", "use_dpop_nonce", "invalid_scope", ...
	Description string // error_description
	DPoPNonce   string // the DPoP-Nonce header, if any
}

func (e *TokenError) Error() string {
	return fmt.Sprintf("token endpoint: %d %s: %s", e.Status, e.Code, e.Description)
}

// Token gets an access token with the client credentials grant for scopes
// (space-separated; "" asks for none, and the token has no scope claim),
// with a DPoP proof made by proof when proof is not nil, and returns it with
// its token_type ("DPoP" when bound to the proof's key, else "Bearer"). It
// fails t when the provider refuses; see [Provider.Request] to look at a
// refusal.
func (p *Provider) Token(t testing.TB, scopes string, proof ProofFunc) (accessToken, tokenType string) {
	t.Helper()
	r, err := p.Request(scopes, proof)
	if err != nil {
		t.Fatalf("oidctest: %v", err)
	}
	return r.AccessToken, r.TokenType
}

// BearerToken is [Provider.Token] without a proof: an unbound token. It
// fails t when the token_type is not Bearer.
func (p *Provider) BearerToken(t testing.TB, scopes string) string {
	t.Helper()
	tok, typ := p.Token(t, scopes, nil)
	if typ != "Bearer" {
		t.Fatalf("oidctest: token_type %q without a DPoP proof; want Bearer", typ)
	}
	return tok
}

// Request is the token request of [Provider.Token], returning the
// provider's refusal as a *[TokenError] rather than failing a test. When the
// provider answers use_dpop_nonce with a DPoP-Nonce, it asks proof for a new
// proof with that nonce and tries once more.
func (p *Provider) Request(scopes string, proof ProofFunc) (*TokenResponse, error) {
	nonce := ""
	for attempt := 1; ; attempt++ {
		r, err := p.request(scopes, proof, nonce)
		var te *TokenError
		if proof != nil && attempt == 1 && errors.As(err, &te) && te.Code == "use_dpop_nonce" && te.DPoPNonce != "" {
			nonce = te.DPoPNonce
			continue
		}
		if err != nil {
			return nil, err
		}
		r.Nonce = nonce
		return r, nil
	}
}

func (p *Provider) request(scopes string, proof ProofFunc, nonce string) (*TokenResponse, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if scopes != "" {
		form.Set("scope", scopes)
	}
	req, err := http.NewRequest(http.MethodPost, p.TokenURL(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	// RFC 6749 section 2.3.1: the id and secret are form-encoded first.
	req.SetBasicAuth(url.QueryEscape(p.opts.ClientID), url.QueryEscape(p.opts.ClientSecret))
	if proof != nil {
		req.Header.Set("DPoP", proof(http.MethodPost, p.TokenURL(), nonce))
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if err := json.Unmarshal(body, &e); err != nil || e.Error == "" {
			return nil, fmt.Errorf("token endpoint: %s: %q", resp.Status, testproc.TailN(string(body), 500))
		}
		return nil, &TokenError{Status: resp.StatusCode, Code: e.Error, Description: e.Description, DPoPNonce: resp.Header.Get("DPoP-Nonce")}
	}
	var r TokenResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("token endpoint: %v in %q", err, testproc.TailN(string(body), 500))
	}
	if r.AccessToken == "" {
		return nil, fmt.Errorf("token endpoint: no access_token in %q", testproc.TailN(string(body), 500))
	}
	return &r, nil
}
