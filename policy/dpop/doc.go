// Package dpop is the core of OAuth 2.0 Demonstrating Proof of Possession
// (DPoP, RFC 9449) for a resource server: it verifies the DPoP proof of a
// request, gives the thumbprint of its key for the access token's cnf.jkt
// binding, makes the challenges, the server nonces, and, for clients, the
// proofs. All JOSE work is go-jose's; this package decides what to accept.
//
// A resource server makes one Verifier and calls it once per request that
// presents a token under the DPoP scheme:
//
//	proof, err := v.Verify(r.Context(), r, accessToken)
//	switch {
//	case errors.Is(err, dpop.ErrReplayUnavailable):
//		// 503, Retry-After: the proof may be good
//	case errors.Is(err, dpop.ErrUseNonce):
//		// 401, WWW-Authenticate: dpop.Challenge(v.Algorithms(), dpop.ErrorUseNonce, ...)
//		// and DPoP-Nonce: v.Nonces().Current()
//	case err != nil:
//		// 401, dpop.Challenge(v.Algorithms(), dpop.ErrorCode(err), dpop.Description(err))
//	default:
//		err = proof.CheckBinding(jktOfTheToken) // the token's cnf.jkt
//	}
//
// Verify makes every check of RFC 9449 section 4.3, in this order, and
// answers the first that fails with an error matching ErrInvalidProof and
// one reason (ErrMultipleProofs, ErrWrongType, ErrProofReplayed, ...):
//
//   - exactly one DPoP header, of at most Config.MaxProofBytes (8 KiB),
//     before any parsing;
//   - a compact JWS in canonical base64url (the JSON serializations are
//     refused), its header strict JSON (no duplicate member, valid UTF-8,
//     no null member), without crit or b64;
//   - typ dpop+jwt (media-type rules: any case, "application/" allowed);
//   - alg one of Config.Algorithms (default ES256 EdDSA RS256 PS256); none
//     and HS* cannot be configured;
//   - jwk a public key (a private or symmetric member, d, p, q, dp, dq, qi,
//     oth, k or priv, is refused, read from the raw header as well as by
//     go-jose), of the algorithm's type and curve, RSA of 2048 bits or
//     more, and, when the jwk says, meant for that alg and for signatures;
//   - the signature, verified with that jwk (never a configured key);
//     RSA-PSS with a salt as long as the hash;
//   - the claims, strict JSON: jti a string of 1 to 256 bytes, htm and htu
//     strings, iat a number;
//   - htm equal to the request's method, case-sensitively;
//   - htu equal to the request's URI without query and fragment, both
//     normalized by NormalizeURI (RFC 3986 sections 6.2.2 and 6.2.3:
//     scheme and host case, default ports, percent-encoding, dot
//     segments, "/" for an empty path). The request's scheme and host are
//     its own (r.TLS, r.Host) unless r.RemoteAddr is one of
//     Config.TrustedProxies, whose Forwarded or X-Forwarded-Proto and
//     X-Forwarded-Host headers then say them (TargetURI);
//   - iat no older than Config.MaxAge (300 s) plus Config.Leeway, and no
//     more than the leeway in the future;
//   - with an access token, ath equal to base64url(SHA-256(token)),
//     compared in constant time;
//   - with Config.Nonces, a current nonce of the NonceSource (else
//     ErrUseNonce);
//   - the jti never accepted before for the same key, within the max age:
//     the ReplayCache records ReplayKey(thumbprint, jti) until the proof
//     would be too old anyway. A cache that cannot answer is
//     ErrReplayUnavailable; MemoryReplayCache serves one instance, and a
//     shared store (Redis: SET NX PXAT) every instance.
//
// The proof's key thumbprint (RFC 7638, SHA-256, base64url) is
// Proof.Thumbprint; Proof.CheckBinding compares it with a token's cnf.jkt
// in constant time.
//
// Errors and their texts never hold the proof, the access token or a
// secret; Description gives a text fit for error_description.
//
// Clients attach proofs with a Prover: NewProver(key, alg), then
// Attach(req, accessToken, nonce) for each request.
package dpop
