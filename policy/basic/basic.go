// Package basic is HTTP Basic authentication (RFC 7617) as a policy of
// this module: Pyramid's BasicAuthAuthenticationPolicy for net/http.
//
// The client sends "Authorization: Basic <base64 of username:password>".
// The username is the request's unauthenticated userid, read without any
// check; the request's user is authenticated when the application's
// [Check] accepts the username and password, and the groups it returns
// are the user's. The outcomes are those of every policy of the module
// (see policy.Identity):
//
//   - no Authorization header, or only headers of another scheme (a JWT
//     policy's, for one): policy.ErrNoCredentials, so that the policy
//     stacks with others;
//   - a header of the Basic scheme that cannot be read (bad base64, no
//     colon, control characters, invalid UTF-8, too long, or beside
//     another Authorization header): policy.ErrInvalidCredentials with
//     the reason policy.ErrMalformedHeader, answered 400 by Challenge;
//   - a username and password the check refuses (a wrong password, an
//     unknown user): policy.ErrInvalidCredentials with the reason
//     [ErrBadPassword], answered 401 with the challenge, so that the
//     client asks for other credentials;
//   - a username that starts with a reserved principal prefix, such as
//     "system." (see Config.ReservedPrincipalPrefixes):
//     policy.ErrUserRejected, which a guard answers 403, whatever the
//     password, since no password makes it a user. The check is never
//     asked about it.
//
// A browser that was given a password sends it by itself with every
// request to the site, another site's page's included: so, as the cookie
// policy does for its cookie, the policy holds Basic credentials to the
// CSRF rule (policy.CrossOriginRule; Config.TrustedOrigins). An unsafe
// request from another origin that they authenticate is a user rejected
// (policy.ErrUserRejected and policy.ErrCrossOrigin), refused 403 before
// the handler under policy.Authenticate. Clients outside a browser (curl,
// servers) send neither Sec-Fetch-Site nor Origin and are not subject to
// it; a page of another origin that sets Authorization: Basic itself
// needs its origin in TrustedOrigins.
//
// The policy never logs a password, a username or the header; it logs
// why credentials failed, with the client's address.
package basic

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"

	"github.com/pyramid-go/jwtauth/policy"
)

// DefaultRealm is the realm of a Config that names none, as Pyramid's.
const DefaultRealm = "Realm"

// MaxHeaderBytes bounds an Authorization header of the Basic scheme,
// scheme included; a longer one is malformed, refused before it is
// decoded.
const MaxHeaderBytes = 4096

// ErrBadPassword is the reason (with policy.ErrInvalidCredentials) of a
// username and password that the check refused. It does not tell a wrong
// password from an unknown user, and neither may a client.
var ErrBadPassword = errors.New("invalid username or password")

// Check is the application's password check, Pyramid's check callback:
// it is called with the username and password of a request's Basic
// credentials and the request, and returns ok true and the user's groups
// (which may be none) to authenticate the user, or ok false to refuse the
// credentials.
//
// A check must compare passwords in constant time, such as with
// [ConstantTimeEqual] or crypto/subtle.ConstantTimeCompare on digests of
// equal length, or better with a password hash (bcrypt, argon2id) of its
// store; [Passwords] is a check of static users. It is never called for a
// username that starts with a reserved principal prefix, and is called
// once per request under policy.Authenticate. It is given the username
// and password as the client sent them, as valid UTF-8 without control
// characters and without any normalization (RFC 7613's profiles): a check
// that needs them normalized does it itself.
type Check func(username, password string, r *http.Request) (groups []string, ok bool)

// Config configures a Basic policy. Its errors name each field by its
// setting key (policy.ConfigError.Key).
type Config struct {
	// Realm names the protection space in the challenge (realm), as the
	// browser shows it to the user. It must be printable ASCII without '"'
	// and '\' (which clients unquote differently). Default DefaultRealm.
	Realm string
	// Check checks a request's username and password (check). Required.
	Check Check
	// Logger receives the reasons credentials fail. Default
	// slog.Default().
	Logger *slog.Logger
	// ReservedPrincipalPrefixes start the principals that name something
	// other than a user, such as groups (reserved_principal_prefixes): a
	// username that starts with one is a user rejected
	// (policy.ErrUserRejected), as in the JWT policy, since userids and
	// groups share one namespace of principals. policy.SystemPrefix is
	// always reserved. nil means policy.DefaultReservedPrincipalPrefixes;
	// an empty, non-nil list reserves policy.SystemPrefix alone.
	//
	// A Basic username holds no colon (RFC 7617: the user-pass is split
	// at the first one), so that no username starts with the default's
	// "group:", "role:" or "scope:" ("group:admins:pw" is the user
	// "group" with the password "admins:pw"); only prefixes without a
	// colon, such as "system.", can match. They are accepted all the
	// same, so that one setting serves this policy and the JWT policy.
	ReservedPrincipalPrefixes []string
	// TrustedOrigins are origins ("https://app.example.com") whose pages may
	// send requests with unsafe methods that Basic credentials
	// authenticate (trusted_origins), besides the site's own: a browser
	// that was given a password sends it by itself with every request to
	// the site, another site's page's included, so the policy holds them
	// to the cookie policy's CSRF rule (policy.CrossOriginRule). Clients
	// outside a browser (curl, servers) send neither Sec-Fetch-Site nor
	// Origin and are not subject to it.
	TrustedOrigins []string
	// Observer is told of the requests the policy authenticates or
	// refuses under policy.Authenticate with it (see policy.Observer):
	// the reasons policy.ErrMalformedHeader, ErrBadPassword,
	// policy.ErrUserRejected and policy.ErrCrossOrigin, never a username
	// or a password. In a stack, the stack's observer reports them.
	// Default nil.
	Observer *policy.Observer
}

// Policy is the Basic authentication policy. It is safe for concurrent
// use.
type Policy struct {
	cfg       Config
	challenge string // the WWW-Authenticate challenge
	csrf      *policy.CrossOriginRule
}

var (
	_ policy.AuthenticationPolicy = (*Policy)(nil)
	_ policy.Identifier           = (*Policy)(nil)
	_ policy.Admitter             = (*Policy)(nil)
	_ policy.Observable           = (*Policy)(nil)
)

// Observer returns the policy's observer (Config.Observer).
func (p *Policy) Observer() *policy.Observer { return p.cfg.Observer }

// New checks cfg and builds the policy. Every error is a
// *policy.ConfigError naming the setting at fault (realm, check,
// reserved_principal_prefixes), which matches policy.ErrConfig.
func New(cfg Config) (*Policy, error) {
	if cfg.Realm == "" {
		cfg.Realm = DefaultRealm
	}
	for i := 0; i < len(cfg.Realm); i++ {
		if c := cfg.Realm[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return nil, configErr("realm", "must be printable ASCII without '\"' or '\\'")
		}
	}
	if cfg.Check == nil {
		return nil, configErr("check", "required: a Basic policy authenticates no one without a password check")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	reserved, err := policy.NewReservedPrefixes(cfg.ReservedPrincipalPrefixes)
	if err != nil {
		return nil, configErr("reserved_principal_prefixes", "%w", err)
	}
	cfg.ReservedPrincipalPrefixes = reserved
	csrf, err := policy.NewCrossOriginRule(cfg.TrustedOrigins, cfg.Logger)
	if err != nil {
		return nil, configErr("trusted_origins", "%w", err)
	}
	// RFC 7617 section 2.1: charset="UTF-8" tells the client to send the
	// username and password in UTF-8, the only encoding the policy reads.
	return &Policy{cfg: cfg, challenge: `Basic realm="` + cfg.Realm + `", charset="UTF-8"`, csrf: csrf}, nil
}

func configErr(key, format string, args ...any) error {
	return &policy.ConfigError{Key: key, Err: fmt.Errorf(format, args...)}
}

// Realm returns the realm of the policy's challenge.
func (p *Policy) Realm() string { return p.cfg.Realm }

// ReservedPrincipalPrefixes returns the prefixes the policy reserves
// (Config.ReservedPrincipalPrefixes, with policy.SystemPrefix), as
// policy.JWT.ReservedPrincipalPrefixes does, for a stack's check
// (multiauth.New).
func (p *Policy) ReservedPrincipalPrefixes() policy.ReservedPrefixes {
	return slices.Clone(policy.ReservedPrefixes(p.cfg.ReservedPrincipalPrefixes))
}

// Identify works out r's identity in one pass: the credentials from the
// Authorization header, the reserved prefixes, the check, then the CSRF
// rule (policy.CrossOriginRule.Reject: a user of an unsafe request from
// another site's page is rejected). Every method of the policy answers
// from it, once per request under policy.Authenticate
// (policy.IdentityOf). Identity.Policy is left empty: a stack of policies
// names its members.
func (p *Policy) Identify(r *http.Request) policy.Identity {
	return p.csrf.Reject(r, p.identify(r))
}

// Admit refuses, before the handler runs, a request whose Basic
// credentials the CSRF rule rejected and that no other policy of root
// authenticated (policy.CrossOriginRule.Refuse): 403 {"error":"csrf"}.
func (p *Policy) Admit(w http.ResponseWriter, r *http.Request, root policy.AuthenticationPolicy) (http.ResponseWriter, bool) {
	if len(r.Header["Authorization"]) == 0 {
		return w, true
	}
	return w, !p.csrf.Refuse(w, r, p, root)
}

// identify is Identify before the CSRF rule.
func (p *Policy) identify(r *http.Request) policy.Identity {
	id := policy.Identity{Principals: []string{policy.Everyone}}
	username, password, found, err := credentials(r.Header["Authorization"])
	switch {
	case !found:
		id.Err = policy.ErrNoCredentials
		return id
	case err != nil:
		id.Err = err
		p.logInvalid(r, err)
		return id
	}
	id.Claimed, id.HasClaim = username, true
	if prefix, reserved := policy.ReservedPrefixes(p.cfg.ReservedPrincipalPrefixes).Of(username); reserved {
		p.cfg.Logger.Info("jwtauth: user rejected", "scheme", "Basic", "reason", "the userid starts with a reserved principal prefix", "prefix", prefix, "remote", r.RemoteAddr)
		id.Err = policy.ErrUserRejected
		return id
	}
	groups, ok := p.cfg.Check(username, password, r)
	if !ok {
		id.Err = &policy.InvalidTokenError{Reason: ErrBadPassword}
		p.logInvalid(r, id.Err)
		return id
	}
	id.UserID = username
	id.Principals = append(append(make([]string, 0, 3+len(groups)), username, policy.Everyone, policy.Authenticated), groups...)
	return id
}

// logInvalid logs why credentials failed: the reason and the cause, whose
// texts are the policy's own and hold nothing the client sent.
func (p *Policy) logInvalid(r *http.Request, err error) {
	var ite *policy.InvalidTokenError
	if !errors.As(err, &ite) {
		return
	}
	args := []any{"scheme", "Basic", "reason", ite.Reason.Error()}
	if ite.Cause != nil {
		args = append(args, "cause", ite.Cause.Error())
	}
	p.cfg.Logger.Info("jwtauth: invalid credentials", append(args, "remote", r.RemoteAddr)...)
}

// AuthenticatedUserID returns the username of credentials the check
// accepted. Otherwise its error matches policy.ErrNoCredentials,
// policy.ErrInvalidCredentials (with the reason: policy.ErrMalformedHeader
// or ErrBadPassword) or policy.ErrUserRejected.
func (p *Policy) AuthenticatedUserID(r *http.Request) (string, error) {
	id := policy.IdentityOf(r, p)
	return id.UserID, id.Err
}

// UnauthenticatedUserID returns the username of the request's Basic
// credentials, unchecked: also when the check refuses it or it starts
// with a reserved prefix. ok is false when there are none, or the header
// cannot be read.
func (p *Policy) UnauthenticatedUserID(r *http.Request) (string, bool) {
	id := policy.IdentityOf(r, p)
	return id.Claimed, id.HasClaim
}

// EffectivePrincipals returns [userid, Everyone, Authenticated, groups...]
// for an authenticated user and [Everyone] otherwise; the error is set,
// and matches policy.ErrInvalidCredentials, when presented credentials
// failed.
func (p *Policy) EffectivePrincipals(r *http.Request) ([]string, error) {
	return policy.IdentityOf(r, p).PrincipalsAnswer()
}

// Remember returns no headers: the client sends its credentials again
// with every request, as Pyramid's policy has it.
func (p *Policy) Remember(r *http.Request, userid string) http.Header { return http.Header{} }

// Forget returns the challenge, `WWW-Authenticate: Basic realm="<realm>",
// charset="UTF-8"`, as Pyramid's policy does. (A browser keeps Basic
// credentials until it is closed; no header makes it drop them.)
func (p *Policy) Forget(r *http.Request) http.Header {
	return http.Header{"Www-Authenticate": {p.challenge}}
}

// Challenge answers 401 with the Forget header and the JSON body
// {"error":"unauthorized"}, which, when the credentials presented failed,
// also holds an error_description (ErrBadPassword's text). An Authorization
// header of the Basic scheme that cannot be read is answered 400 with
// {"error":"invalid_request","error_description":...}, the JWT policy's
// answer to a malformed header.
//
// A request that a page's script made in a browser (FromPageScript) gets
// the same answer without the Basic challenge: a browser that sees one
// opens its password dialog, even for a script's fetch, over the page
// that was to handle the 401 itself. Navigations (a link, an address
// typed, a form) and clients outside a browser (curl) get the challenge.
// So a stack challenges a page's fetch with its other policies'
// challenges only; a Basic policy alone answers such a fetch 401 without
// WWW-Authenticate, as RFC 7235 does not allow but every browser
// application needs.
func (p *Policy) Challenge(w http.ResponseWriter, r *http.Request) {
	id := policy.IdentityOf(r, p)
	status := http.StatusUnauthorized
	body := map[string]string{"error": "unauthorized"}
	var ite *policy.InvalidTokenError
	if errors.As(id.Err, &ite) {
		body["error_description"] = ite.Reason.Error()
		if ite.Reason == policy.ErrMalformedHeader {
			status, body["error"] = http.StatusBadRequest, "invalid_request"
		}
	}
	if !FromPageScript(r) {
		for k, v := range p.Forget(r) {
			w.Header()[k] = v
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// FromPageScript tells whether a browser sent r for a page's script (a
// fetch, an XMLHttpRequest) or for a subresource, rather than for a
// navigation: its Sec-Fetch-Mode header (which browsers set, and no page
// can) is there and is not "navigate". Clients outside a browser send no
// Sec-Fetch-Mode.
func FromPageScript(r *http.Request) bool {
	mode := r.Header.Get("Sec-Fetch-Mode")
	return mode != "" && mode != "navigate"
}
