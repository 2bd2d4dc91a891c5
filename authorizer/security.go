package authorizer

import (
	"net/http"

	"github.com/pyramid-go/jwtauth/policy"
)

// SecurityPolicy joins an authentication policy and an authorizer, in the
// shape of Pyramid 2.0's security policy: who the request is, whether it
// may do something, and the headers that remember or forget it.
type SecurityPolicy struct {
	// Authentication answers who the request is.
	Authentication policy.AuthenticationPolicy
	// Authorizer decides permissions; nil means ACLAuthorizer.
	Authorizer Authorizer
}

// Identity returns the request's authenticated userid; the error is
// AuthenticatedUserID's.
func (s SecurityPolicy) Identity(r *http.Request) (string, error) {
	return s.Authentication.AuthenticatedUserID(r)
}

// Permits decides permission on context for the request's effective
// principals. When the request presented credentials that failed, the
// decision is made for [Everyone] alone and the error is returned with it,
// so that the caller can answer with the challenge.
func (s SecurityPolicy) Permits(r *http.Request, context Resource, permission string) (Decision, error) {
	principals, err := s.Authentication.EffectivePrincipals(r)
	return s.authorizer().Permits(context, principals, permission), err
}

// Remember returns the authentication policy's Remember headers.
func (s SecurityPolicy) Remember(r *http.Request, userid string) http.Header {
	return s.Authentication.Remember(r, userid)
}

// Forget returns the authentication policy's Forget headers.
func (s SecurityPolicy) Forget(r *http.Request) http.Header {
	return s.Authentication.Forget(r)
}

func (s SecurityPolicy) authorizer() Authorizer {
	if s.Authorizer == nil {
		return ACLAuthorizer{}
	}
	return s.Authorizer
}
