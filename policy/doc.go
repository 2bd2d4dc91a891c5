// Package policy is Pyramid's authentication policy for net/http: the
// AuthenticationPolicy interface, the framework that gives each request
// one Identity with a policy, and the JWT policies: JWT, which reads its
// token from the Authorization header, and Cookie, which keeps it in a
// browser's cookie.
//
// One request goes one way through the code:
//
//   - Authenticate(p), the one middleware (the JWT policy's Middleware and
//     chiadapter.Authenticate are it), gives the request a place for its
//     identity with p, worked out on the first question and then kept,
//     and asks the Admitters among p's policies before the handler runs
//     (the CSRF refusal of the cookie and Basic policies, CrossOriginRule;
//     the cookie policy's sliding session, re-issued when the handler
//     writes);
//   - the policy works the request out once (Identifier): the JWT policy
//     reads the token from the Authorization header, the cookie policy
//     from its cookie; a Verifier checks it (structure, algorithm, header,
//     signature, claims, with the verified-token cache, then the
//     revocation store, if any: RevocationStore), then the proof binding
//     (a token bound to a key by cnf.jkt needs the DPoP scheme and a proof
//     of that key, verified on every request by the policy/dpop package:
//     Config.DPoP), and the userid's principals follow (the reserved prefixes, the group finder, then,
//     with Config.ScopePrincipals, the scopes the verifier read);
//   - the policy's own methods (AuthenticatedUserID, EffectivePrincipals,
//     Challenge, ...), the chi adapter's guards and the context accessors
//     (IdentityFrom, UserIDFrom, PrincipalsFrom, ClaimsFrom, and
//     ClaimsFromAs for the claims as a type of the application's) all read
//     that one Identity.
//
// Any AuthenticationPolicy, one written by an application too, takes part:
// Identify asks it its questions when it does not answer them in one pass.
// The packages below this one hold the other policies, basic (RFC 7617)
// and multiauth (stacked policies, as pyramid_multiauth), the key sets of
// identity providers (keyset) and the revocation store on Redis
// (redisrevocation).
package policy
