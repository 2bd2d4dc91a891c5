// The OpenID provider of the tests (internal/oidctest runs it): oidc-provider,
// pinned by package-lock.json (scripts/ensure-oidc-provider.sh installs it),
// listening on 127.0.0.1 only, with one confidential client that has the
// client credentials grant, one resource server whose access tokens are JWTs
// (RFC 9068's at+jwt), and DPoP (RFC 9449): a token request with a DPoP proof
// gets a token bound to the proof's key (cnf.jkt).
//
//   OIDCTEST_PORT=8999 OIDCTEST_CLIENT_ID=c OIDCTEST_CLIENT_SECRET=s node provider.mjs
//
// Settings, all from the environment (the secret never on the command line):
//
//   OIDCTEST_PORT           the port of 127.0.0.1 to listen on (or the first argument)
//   OIDCTEST_CLIENT_ID      the client's id
//   OIDCTEST_CLIENT_SECRET  its secret (client_secret_basic or client_secret_post)
//   OIDCTEST_RESOURCE       the resource indicator, also the tokens' aud (default https://api.example.test)
//   OIDCTEST_SCOPES         the resource server's scopes, space-separated (default "articles:read articles:write")
//   OIDCTEST_ALG            the tokens' signing algorithm: ES256 (default), RS256, PS256 or EdDSA
//   OIDCTEST_TOKEN_TTL      the tokens' lifetime in seconds (default 300)
//   OIDCTEST_DPOP_NONCE     1: every DPoP proof must carry a nonce of the provider's (use_dpop_nonce)
//   OIDCTEST_INSTANCE       a string put in the discovery document as "oidctest_instance", so that
//                           whoever started this process can tell it from another one on the port
//
// The issuer is http://127.0.0.1:<port>; the discovery document is at
// /.well-known/openid-configuration, the keys at /jwks, the token endpoint at
// /token. The signing key is made at start and lives only in memory.
//
// It prints "oidctest-provider: ready <issuer> pid <pid>" once it listens,
// one line per request, and the errors of token requests. It exits on SIGTERM
// or SIGINT, and when its standard input ends (the process that started it
// keeps a pipe open: when that process dies, the pipe closes), so run it by
// hand from a terminal, not with stdin at /dev/null. A port in use is exit
// status 3 and "EADDRINUSE" on standard error.

import * as crypto from 'node:crypto';
import { Provider, errors } from 'oidc-provider';

const me = 'oidctest-provider';

function fail(message, status = 2) {
  console.error(`${me}: ${message}`);
  process.exit(status);
}

function setting(name, fallback) {
  const v = process.env[name];
  if (v === undefined || v === '') {
    if (fallback === undefined) fail(`${name} is not set`);
    return fallback;
  }
  return v;
}

const portText = process.argv[2] ?? setting('OIDCTEST_PORT');
const port = Number(portText);
if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`bad port ${JSON.stringify(portText)}`);

const clientId = setting('OIDCTEST_CLIENT_ID');
const clientSecret = setting('OIDCTEST_CLIENT_SECRET');
const resource = setting('OIDCTEST_RESOURCE', 'https://api.example.test');
const scopes = setting('OIDCTEST_SCOPES', 'articles:read articles:write').split(' ').filter(Boolean);
const alg = setting('OIDCTEST_ALG', 'ES256');
const ttlText = setting('OIDCTEST_TOKEN_TTL', '300');
const ttl = Number(ttlText);
if (!Number.isInteger(ttl) || ttl < 1) fail(`bad OIDCTEST_TOKEN_TTL ${JSON.stringify(ttlText)}`);
const requireNonce = setting('OIDCTEST_DPOP_NONCE', '0') === '1';
const instanceId = setting('OIDCTEST_INSTANCE', '');

// The signing key, made now: its private JWK goes to oidc-provider's keystore,
// which publishes the public part at /jwks.
function signingKey() {
  let pair;
  switch (alg) {
    case 'ES256': pair = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }); break;
    case 'RS256':
    case 'PS256': pair = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }); break;
    case 'EdDSA': pair = crypto.generateKeyPairSync('ed25519'); break;
    default: fail(`unsupported OIDCTEST_ALG ${JSON.stringify(alg)} (ES256, RS256, PS256 or EdDSA)`);
  }
  const jwk = pair.privateKey.export({ format: 'jwk' });
  return { ...jwk, alg, use: 'sig', kid: `oidctest-${alg.toLowerCase()}-${crypto.randomBytes(6).toString('base64url')}` };
}

const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  jwks: { keys: [signingKey()] },
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: scopes.join(' '),
  }],
  scopes,
  ttl: { ClientCredentials: ttl },
  clientDefaults: { id_token_signed_response_alg: alg },
  enabledJWA: { idTokenSigningAlgValues: [alg] },
  discovery: instanceId ? { oidctest_instance: instanceId } : {},
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    dPoP: {
      enabled: true,
      ...(requireNonce ? { nonceSecret: crypto.randomBytes(32), requireNonce: () => true } : {}),
    },
    resourceIndicators: {
      enabled: true,
      // A token request without a resource parameter is for our resource
      // server, so that every access token is a JWT.
      defaultResource: () => resource,
      getResourceServerInfo: (_ctx, indicator) => {
        if (indicator !== resource) throw new errors.InvalidTarget(`unknown resource ${indicator}`);
        return {
          audience: resource,
          scope: scopes.join(' '),
          accessTokenFormat: 'jwt',
          accessTokenTTL: ttl,
          jwt: { sign: { alg } },
        };
      },
    },
  },
});

provider.use(async (ctx, next) => {
  const start = process.hrtime.bigint();
  try {
    await next();
  } finally {
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    const dpop = ctx.get('DPoP') ? ' (DPoP proof)' : '';
    console.log(`${me}: ${ctx.method} ${ctx.path}${dpop} -> ${ctx.status} in ${ms.toFixed(1)} ms`);
  }
});

for (const event of ['grant.error', 'server_error']) {
  provider.on(event, (_ctx, err) => {
    const detail = err.error_description ? ` (${err.error_description})` : '';
    console.log(`${me}: ${event}: ${err.message}${detail}`);
  });
}

function stop(reason) {
  console.log(`${me}: stopping: ${reason}`);
  process.exit(0);
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
process.stdin.on('end', () => stop('standard input ended'));
process.stdin.on('error', () => stop('standard input failed'));
process.stdin.resume();

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`${me}: ready ${issuer} pid ${process.pid}`);
});
server.on('error', (err) => fail(`listening on 127.0.0.1:${port}: ${err.code ?? err.message}`, err.code === 'EADDRINUSE' ? 3 : 2));
