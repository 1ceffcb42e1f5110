// The real identity provider for the tests and the demo: node-oidc-provider, configured like an MSAL-style
// authority (confidential clients, PKCE required, refresh tokens, a resource server whose JWT access tokens carry
// Mail.Read / Mail.Send, consent that asks again for new scopes).
//
// Daemons call the mail API as themselves with the client credentials grant, shaped as on Entra: they ask for
// `scope=api://mail-api/.default`, and their access tokens carry the app roles (application permissions) granted
// to them in `roles`, no `scope`, and `oid` equal to `sub` (the app's own id). Users named in USER_ROLES carry
// app roles assigned to them in their delegated tokens, as Entra writes a user's roles.
//
// A web API calls a downstream API on behalf of its caller with RFC 8693 token exchange: the client `mail-api`
// (the mail API's own registration) exchanges a user's access token for the mail API for one of the contacts API
// (`api://contacts-api/Contacts.Read`) with the same `sub`. Node-oidc-provider has no token exchange of its own;
// the grant registered below validates the subject token as the mail API would (signature with this provider's
// keys, issuer, lifetime, audience = the exchanging client's API, a user's token), and issues a JWT access token
// for the target resource, with `act` naming the exchanging client (RFC 8693 §4.1).
//
// Started by the Rust test harness (tests/src/idp.rs) and by scripts/demo. Settings come from the environment:
//   IDP_PORT                        port on 127.0.0.1 (default 0: a free port; the issuer is printed on stdout)
//   IDP_REDIRECT_URIS               comma-separated redirect URIs registered for every client (required)
//   IDP_POST_LOGOUT_REDIRECT_URIS   comma-separated post-logout redirect URIs (default: none)
//   IDP_API_AUDIENCE                audience of the mail API's access tokens (default api://mail-api)
//   IDP_JWT_CLIENT_JWKS             public JWKS of the `mail-app-jwt` client (private_key_jwt); optional
//   IDP_ISSUER_PATH                 a path for the issuer, such as /idp (default: none, the issuer is the origin);
//                                   MSAL Python needs one, as its authorities have a tenant segment
//
// Test control (loopback only, for the harness): GET /__test/counters, POST /__test/reset,
// POST /__test/settings {...}, POST /__test/faults {...}. See `control` below; unknown or mistyped keys are
// refused with a 400 that names them (SETTINGS and FAULT list what is accepted).
import { createServer } from 'node:http';
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import Provider, { errors } from 'oidc-provider';

const env = process.env;
const list = (value) => (value || '').split(',').map((s) => s.trim()).filter(Boolean);

const redirectUris = list(env.IDP_REDIRECT_URIS);
if (redirectUris.length === 0) {
  console.error('IDP_REDIRECT_URIS is required (comma-separated redirect URIs of the app)');
  process.exit(2);
}
const postLogoutRedirectUris = list(env.IDP_POST_LOGOUT_REDIRECT_URIS);
const ISSUER_PATH = (env.IDP_ISSUER_PATH || '').replace(/\/+$/, '');
if (ISSUER_PATH && !/^\/[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/.test(ISSUER_PATH)) {
  console.error(`IDP_ISSUER_PATH must be a path such as /idp, not ${JSON.stringify(env.IDP_ISSUER_PATH)}`);
  process.exit(2);
}
const API = env.IDP_API_AUDIENCE || 'api://mail-api';
const API_SCOPES = 'Mail.Read Mail.Send';
// A second API, for handlers that call two resources; its scopes are written in full, as on Entra.
const ORDERS_API = 'api://orders-api';
const ORDERS_SCOPES = 'api://orders-api/Orders.Read';
// The downstream API the mail API calls on behalf of its callers.
const CONTACTS_API = 'api://contacts-api';
const CONTACTS_SCOPES = 'api://contacts-api/Contacts.Read';
const RESOURCES = { [API]: API_SCOPES, [ORDERS_API]: ORDERS_SCOPES, [CONTACTS_API]: CONTACTS_SCOPES };
// The resource a request's scopes are for (the MSAL request shape names scopes, not a `resource`).
// `<resource>/.default` (the client credentials request shape) names its resource too.
const resourceOf = (scope) => Object.keys(RESOURCES).find((r) => String(scope || '').split(' ').some((s) => s === `${r}/.default` || RESOURCES[r].split(' ').includes(s)));
// App roles of the mail API granted to each daemon (an admin's grant on Entra); a daemon granted none gets
// tokens without `roles`.
const APP_ROLES = { 'mail-daemon': ['Mail.Read.All'], 'mail-daemon-unassigned': [] };
// App roles of the mail API assigned to users (by login): a user's, in delegated tokens beside `scope`.
const USER_ROLES = { auditor: ['Mail.Read.All'] };

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
// Web APIs that exchange their callers' tokens: client id -> the audience of the tokens it may exchange.
const EXCHANGERS = { 'mail-api': API };

// Clients of the tests. One client per authentication method (node-oidc-provider allows one per client).
const CLIENTS = [
  { client_id: 'mail-app', client_secret: 'mail-app-secret', token_endpoint_auth_method: 'client_secret_basic' },
  { client_id: 'mail-app-post', client_secret: 'mail-app-post-secret', token_endpoint_auth_method: 'client_secret_post' },
  {
    client_id: 'mail-app-es256',
    client_secret: 'mail-app-es256-secret',
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'ES256',
  },
  ...(env.IDP_JWT_CLIENT_JWKS ? [{
    client_id: 'mail-app-jwt',
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: JSON.parse(env.IDP_JWT_CLIENT_JWKS),
  }] : []),
].map((client) => ({
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  redirect_uris: redirectUris,
  post_logout_redirect_uris: postLogoutRedirectUris,
  ...client,
})).concat(Object.keys(APP_ROLES).map((client_id) => ({
  client_id,
  client_secret: `${client_id}-secret`,
  token_endpoint_auth_method: 'client_secret_basic',
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
}))).concat(Object.keys(EXCHANGERS).map((client_id) => ({
  client_id,
  client_secret: `${client_id}-secret`,
  token_endpoint_auth_method: 'client_secret_basic',
  grant_types: [TOKEN_EXCHANGE],
  response_types: [],
  redirect_uris: [],
})));

// Signing keys with distinct kids; the first RSA key signs RS256 ID tokens. Tests hide or show keys
// in the published JWKS (settings.hiddenKids) to exercise key rotation in the relying party.
const privateJwk = (type, options, kid) => ({
  ...generateKeyPairSync(type, options).privateKey.export({ format: 'jwk' }),
  kid,
  use: 'sig',
});
const jwks = {
  keys: [
    privateJwk('rsa', { modulusLength: 2048 }, 'rsa-1'),
    privateJwk('rsa', { modulusLength: 2048 }, 'rsa-2'),
    privateJwk('ec', { namedCurve: 'P-256' }, 'ec-1'),
  ],
};

// Mutable by the tests through POST /__test/settings.
const settings = {
  accessTokenTtl: 3600,
  refreshTokenTtl: 14 * 24 * 3600,
  rotateRefreshToken: true,
  hiddenKids: [],
  // false: a refresh token covers the scopes of its authorization request (standard OAuth, as Auth0 or
  // Okta). true: it covers everything the user consented to, for every resource (as Entra's do).
  refreshTokensCoverGrant: false,
  // true: a refresh token also accepts `openid profile offline_access` in the refresh request's scope, as
  // Entra's do (MSAL libraries add the three to every request); standard OIDC refuses what it did not grant.
  refreshTokensAcceptReservedScopes: false,
  // A claims request (JSON text) that every token exchange is refused with, as `interaction_required` (Entra's
  // answer when conditional access needs more of the user); null: none.
  exchangeClaimsChallenge: null,
};
let counters = { requests: {}, grants: {}, grantErrors: {} };
// Faults to inject, keyed by "METHOD /path": { status, retryAfter, remaining, delayMs, body }.
let faults = {};

const bump = (map, key) => { map[key] = (map[key] || 0) + 1; };

// node-oidc-provider's development adapter keeps at most 1000 entries; benchmarks that rotate refresh tokens
// thousands of times would evict live grants. This one keeps everything until it expires.
const store = new Map(); // key -> { payload, expiresAt }
const grants = new Map(); // grantId -> Set of keys
const live = (key) => {
  const entry = store.get(key);
  if (entry && entry.expiresAt <= Date.now()) {
    store.delete(key);
    return undefined;
  }
  return entry?.payload;
};
class UnboundedAdapter {
  constructor(model) { this.model = model; }
  key(id) { return `${this.model}:${id}`; }
  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity;
    store.set(key, { payload, expiresAt });
    if (this.model === 'Session') store.set(`sessionUid:${payload.uid}`, { payload: id, expiresAt });
    if (payload.userCode) store.set(`userCode:${payload.userCode}`, { payload: id, expiresAt });
    if (payload.grantId) {
      if (!grants.has(payload.grantId)) grants.set(payload.grantId, new Set());
      grants.get(payload.grantId).add(key);
    }
  }
  async find(id) { return live(this.key(id)); }
  async findByUid(uid) { const id = live(`sessionUid:${uid}`); return id && this.find(id); }
  async findByUserCode(code) { const id = live(`userCode:${code}`); return id && this.find(id); }
  async consume(id) { const payload = live(this.key(id)); if (payload) payload.consumed = Math.floor(Date.now() / 1000); }
  async destroy(id) { store.delete(this.key(id)); }
  async revokeByGrantId(grantId) {
    for (const key of grants.get(grantId) ?? []) store.delete(key);
    grants.delete(grantId);
  }
}

const displayName = (login) => login.charAt(0).toUpperCase() + login.slice(1) + ' Example';

const configuration = {
  adapter: UnboundedAdapter,
  clients: CLIENTS,
  jwks,
  cookies: { keys: ['msal-test-idp-cookie-key'] },
  pkce: { required: () => true },
  conformIdTokenClaims: false,
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
  },
  scopes: ['openid', 'profile', 'email', 'offline_access'],
  async findAccount(ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          name: displayName(sub),
          preferred_username: `${sub}@example.test`,
          email: `${sub}@example.test`,
          email_verified: true,
        };
      },
    };
  },
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // A request that names API scopes but no `resource` gets a token for that API: the MSAL request shape.
      defaultResource: async (ctx) => resourceOf(ctx.oidc.params?.scope),
      useGrantedResource: async () => true,
      getResourceServerInfo: async (ctx, resource) => {
        if (!RESOURCES[resource]) throw new errors.InvalidTarget();
        return { scope: RESOURCES[resource], audience: resource, accessTokenFormat: 'jwt', accessTokenTTL: settings.accessTokenTtl };
      },
    },
  },
  // The mail API's app roles: an app's in its client credentials tokens, a user's in their delegated ones.
  extraTokenClaims: async (ctx, token) => {
    if (token.aud !== API && token.resourceServer?.audience !== API) return undefined;
    if (token.kind === 'ClientCredentials') {
      const roles = APP_ROLES[token.clientId] ?? [];
      return { oid: token.clientId, ...(roles.length ? { roles } : {}) };
    }
    const roles = USER_ROLES[token.accountId];
    return roles ? { roles } : undefined;
  },
  // Standard OIDC drops offline_access unless prompt=consent (see IDP-NOTES); the clients here always get a
  // refresh token, as an MSAL-style authority gives one for offline_access without prompting.
  issueRefreshToken: async (ctx, client, source) => {
    if (settings.refreshTokensCoverGrant && source.grantId && ctx.oidc.route === 'token' && source.kind === 'AuthorizationCode') {
      const grant = await ctx.oidc.provider.Grant.find(source.grantId);
      const resources = Object.keys(grant?.resources ?? {});
      source.scope = [grant.getOIDCScope(), ...resources.map((r) => grant.getResourceScope(r))].join(' ');
      source.resource = resources;
    }
    if (settings.refreshTokensAcceptReservedScopes && source.kind === 'AuthorizationCode') {
      source.scope = [...new Set([...String(source.scope || '').split(' ').filter(Boolean), 'openid', 'profile', 'offline_access'])].join(' ');
    }
    return client.grantTypeAllowed('refresh_token');
  },
  rotateRefreshToken: () => settings.rotateRefreshToken,
  ttl: {
    AccessToken: () => settings.accessTokenTtl,
    AuthorizationCode: 60,
    IdToken: 3600,
    Interaction: 3600,
    Grant: 14 * 24 * 3600,
    Session: 14 * 24 * 3600,
    RefreshToken: () => settings.refreshTokenTtl,
  },
};

// What the test control endpoints accept, key by key: a check and what it expects (for the refusal's text).
// Anything else is refused, so that a misspelled or mistyped key fails the test that sent it instead of
// silently changing nothing.
const wholeAbove = (min) => (value) => Number.isInteger(value) && value >= min;
const isBoolean = (value) => typeof value === 'boolean';
const SETTINGS = {
  accessTokenTtl: [wholeAbove(1), 'whole seconds, 1 or more'],
  refreshTokenTtl: [wholeAbove(1), 'whole seconds, 1 or more'],
  rotateRefreshToken: [isBoolean, 'true or false'],
  hiddenKids: [(value) => Array.isArray(value) && value.every((kid) => typeof kid === 'string'), 'an array of kids (strings)'],
  refreshTokensCoverGrant: [isBoolean, 'true or false'],
  refreshTokensAcceptReservedScopes: [isBoolean, 'true or false'],
  exchangeClaimsChallenge: [(value) => value === null || typeof value === 'string', 'a claims request (JSON text) or null'],
};
const FAULT = {
  route: [(value) => typeof value === 'string' && /^[A-Z]+ \/\S*$/.test(value), 'a route as counted, such as "POST /token"'],
  status: [(value) => Number.isInteger(value) && value >= 100 && value <= 599, 'an HTTP status, 100 to 599'],
  retryAfter: [wholeAbove(0), 'whole seconds, 0 or more'],
  count: [wholeAbove(1), 'a whole number of requests, 1 or more'],
  delayMs: [wholeAbove(0), 'whole milliseconds, 0 or more'],
  bodyBytes: [wholeAbove(0), 'a whole number of bytes, 0 or more'],
};

// Why `body` does not fit `schema` (null when it does): the body of the 400, naming every key at fault.
function refusal(what, schema, body, required = []) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { error: `${what}: the body must be a JSON object` };
  }
  const keys = Object.keys(body);
  const unknownKeys = keys.filter((key) => !Object.hasOwn(schema, key));
  const invalidKeys = keys.filter((key) => Object.hasOwn(schema, key) && !schema[key][0](body[key]));
  const missingKeys = required.filter((key) => !Object.hasOwn(body, key));
  if (unknownKeys.length + invalidKeys.length + missingKeys.length === 0) return null;
  const problems = [
    ...unknownKeys.map((key) => `unknown key "${key}"`),
    ...invalidKeys.map((key) => `"${key}" must be ${schema[key][1]}, not ${JSON.stringify(body[key])}`),
    ...missingKeys.map((key) => `"${key}" is missing`),
  ];
  return {
    error: `${what}: ${problems.join('; ')} (known keys: ${Object.keys(schema).join(', ')})`,
    unknownKeys,
    invalidKeys,
    missingKeys,
  };
}

async function readJson(req) {
  let raw = '';
  for await (const chunk of req) raw += chunk;
  return raw ? JSON.parse(raw) : {};
}

// Test control endpoints, answered before the provider sees the request.
async function control(req, res) {
  const reply = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const route = `${req.method} ${new URL(req.url, 'http://x').pathname}`;
  switch (route) {
    case 'GET /__test/counters':
      return reply(200, counters);
    case 'POST /__test/reset':
      counters = { requests: {}, grants: {}, grantErrors: {} };
      faults = {};
      return reply(200, {});
    case 'POST /__test/settings': {
      // Checked whole before any of it applies: a refused request changes nothing.
      const changes = await readJson(req);
      const refused = refusal('settings refused', SETTINGS, changes);
      if (refused) return reply(400, refused);
      Object.assign(settings, changes);
      return reply(200, settings);
    }
    case 'POST /__test/faults': {
      // { "route": "POST /token", "status": 503, "retryAfter": 2, "count": 3, "delayMs": 0, "bodyBytes": 0 }
      const f = await readJson(req);
      const refused = refusal('fault refused', FAULT, f, ['route'])
        ?? (f.status || f.delayMs || f.bodyBytes ? null : {
          error: `fault refused: it does nothing without "status", "delayMs" or "bodyBytes" (got ${JSON.stringify(f)})`,
        });
      if (refused) return reply(400, refused);
      faults[f.route] = {
        status: f.status, retryAfter: f.retryAfter, remaining: f.count ?? 1, delayMs: f.delayMs || 0, bodyBytes: f.bodyBytes || 0,
      };
      return reply(200, faults);
    }
    default:
      return reply(404, { error: 'unknown test control route' });
  }
}

// The claims of `jwt` if it is an access token this provider signed and that is valid now; else null.
function verifiedClaims(jwt, issuer) {
  const parts = String(jwt || '').split('.');
  if (parts.length !== 3) return null;
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url'));
    const jwk = jwks.keys.find((key) => key.kid === header.kid);
    if (!jwk) return null;
    const { d, p, q, dp, dq, qi, ...publicJwk } = jwk;
    const key = createPublicKey({ key: publicJwk, format: 'jwk' });
    const data = Buffer.from(`${parts[0]}.${parts[1]}`);
    const signature = Buffer.from(parts[2], 'base64url');
    const ok = {
      RS256: () => verify('sha256', data, key, signature),
      PS256: () => verify('sha256', data, { key, padding: 6, saltLength: 32 }, signature),
      ES256: () => verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature),
    }[header.alg]?.();
    if (!ok) return null;
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url'));
    const now = Math.floor(Date.now() / 1000);
    if (claims.iss !== issuer || !(claims.exp > now)) return null;
    return claims;
  } catch {
    return null;
  }
}

// RFC 8693 token exchange, for the clients in EXCHANGERS: a user's access token for the client's API becomes an
// access token for the resource the requested scopes belong to, with the same `sub`.
async function tokenExchange(ctx) {
  const { params, client, provider } = ctx.oidc;
  const audience = EXCHANGERS[client.clientId];
  if (!audience) throw new errors.UnauthorizedClient('this client exchanges no tokens');
  if (params.subject_token_type !== ACCESS_TOKEN_TYPE) {
    throw new errors.InvalidRequest('subject_token_type must be an access token');
  }
  if (params.requested_token_type && params.requested_token_type !== ACCESS_TOKEN_TYPE) {
    throw new errors.InvalidRequest('only access tokens are issued');
  }
  const subject = verifiedClaims(params.subject_token, provider.issuer);
  if (!subject) throw new errors.InvalidGrant('subject_token is not a valid access token of this provider');
  const audiences = [].concat(subject.aud);
  if (!audiences.includes(audience)) throw new errors.InvalidGrant(`subject_token is not for ${audience}`);
  // An app's own token (client credentials: its subject is the client) has no user to act for.
  if (subject.sub === subject.client_id) throw new errors.InvalidGrant('subject_token is an app\'s, not a user\'s');
  if (settings.exchangeClaimsChallenge !== null) {
    ctx.state.exchangeClaimsChallenge = settings.exchangeClaimsChallenge;
    throw new errors.InteractionRequired('AADSTS50079-like: the user must satisfy the claims requested');
  }
  const requested = String(params.scope || '').split(' ').filter(Boolean);
  const resource = resourceOf(params.scope);
  if (!resource || resource === audience) throw new errors.InvalidTarget('scope names no downstream API');
  const granted = requested.filter((scope) => RESOURCES[resource].split(' ').includes(scope));
  if (granted.length !== requested.length) throw new errors.InvalidScope('scope names another API', requested.join(' '));

  const token = new provider.AccessToken({
    accountId: subject.sub,
    client,
    scope: granted.join(' '),
    gty: 'token_exchange',
    extra: { act: { sub: client.clientId } },
  });
  token.resourceServer = new provider.ResourceServer(resource, {
    scope: RESOURCES[resource], audience: resource, accessTokenFormat: 'jwt', accessTokenTTL: settings.accessTokenTtl,
  });
  const value = await token.save();
  ctx.body = {
    access_token: value,
    issued_token_type: ACCESS_TOKEN_TYPE,
    token_type: 'Bearer',
    expires_in: token.expiration,
    scope: token.scope,
  };
}

const server = createServer();
server.listen(Number(env.IDP_PORT || 0), '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}${ISSUER_PATH}`;
  const provider = new Provider(issuer, configuration);
  // Plain-http loopback is this provider's only deployment.
  provider.proxy = false;
  provider.registerGrantType(
    TOKEN_EXCHANGE,
    tokenExchange,
    ['subject_token', 'subject_token_type', 'requested_token_type', 'scope', 'audience', 'resource', 'actor_token', 'actor_token_type'],
    ['audience', 'resource'],
  );

  provider.use(async (ctx, next) => {
    const route = `${ctx.method} ${ctx.path}`;
    bump(counters.requests, route);
    const fault = faults[route];
    if (fault && fault.remaining > 0) {
      fault.remaining -= 1;
      if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
      if (fault.bodyBytes) {
        ctx.status = fault.status || 200;
        ctx.type = 'json';
        ctx.body = JSON.stringify({ access_token: 'x', padding: 'x'.repeat(fault.bodyBytes) });
        return;
      }
      if (fault.status) {
        ctx.status = fault.status;
        if (fault.retryAfter !== undefined) ctx.set('Retry-After', String(fault.retryAfter));
        ctx.body = { error: 'temporarily_unavailable', error_description: 'injected by the test harness' };
        return;
      }
    }
    await next();
    // An exchange refused for a claims challenge carries the claims, as Entra's answer does.
    if (ctx.state.exchangeClaimsChallenge && ctx.body?.error === 'interaction_required') {
      ctx.body = { ...ctx.body, claims: ctx.state.exchangeClaimsChallenge };
    }
    if (route === 'GET /jwks' && ctx.body?.keys && settings.hiddenKids.length) {
      ctx.body = { keys: ctx.body.keys.filter((k) => !settings.hiddenKids.includes(k.kid)) };
    }
  });
  provider.on('grant.success', (ctx) => bump(counters.grants, ctx.oidc.params.grant_type));
  provider.on('grant.error', (ctx, err) => bump(counters.grantErrors, `${ctx.oidc.params?.grant_type}:${err.error}`));
  provider.on('server_error', (ctx, err) => console.error('idp server_error', err));

  const callback = provider.callback();
  // Mounted under the issuer's path as Express mounts it: `originalUrl` keeps the full path, from which
  // node-oidc-provider builds its endpoints' URLs; `url` is what its router sees.
  const mounted = (req, res) => {
    if (!ISSUER_PATH) return callback(req, res);
    const path = req.url.split('?')[0];
    if (path !== ISSUER_PATH && !path.startsWith(`${ISSUER_PATH}/`)) {
      res.writeHead(404, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ error: 'not_found', error_description: `outside the issuer's path ${ISSUER_PATH}` }));
    }
    req.originalUrl = req.url;
    req.url = req.url.slice(ISSUER_PATH.length) || '/';
    return callback(req, res);
  };
  server.on('request', (req, res) => (req.url.startsWith('/__test/') ? control(req, res).catch((e) => {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: String(e) }));
  }) : mounted(req, res)));

  // The first stdout line is read by the harness and the demo script.
  console.log(JSON.stringify({ issuer, port }));
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
