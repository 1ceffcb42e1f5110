// msal-node (the real library, pinned in package.json) on a token cache, for tests/tests/msal_interop.rs.
//
// Reads one JSON request on stdin, prints one JSON answer on stdout: the same protocol as
// tests/interop/python/msal_cache.py. The library's HTTP goes through `system.networkClient`, never to the
// network:
// - "offline": metadata GETs (discovery documents) are answered from the request; any other request, and every
//   token request, is recorded and fails. A cache hit must therefore need no request at all.
// - "bridge": the library's authority is `public` (https: msal-node refuses any other scheme); requests are
//   forwarded to the test provider at `real` (plain http on loopback), and `real` is written back as `public`
//   in the answers, as a TLS-terminating proxy in front of the provider would present it.
//
// Request: {"command": "silent" | "client_credentials" | "authorization_code" (with "code", "redirect_uri"), "authority": {"oidc": url} | {"entra": url},
//           "client_id", "client_secret", "cache": MSAL JSON or null, "scopes": [...], "force_refresh": bool,
//           "http": {"mode": "offline", "get": {url: json}, "post": {url: json}} | {"mode": "bridge", "public", "real"}}
// Answer:  {"accounts": [...], "result": {...} | null, "error": string | null, "requests": [...], "cache": MSAL JSON}
import { ConfidentialClientApplication, LogLevel, ProtocolMode } from '@azure/msal-node';

const withoutQuery = (url) => { const u = new URL(url); u.search = ''; return u.toString(); };

function offlineClient({ get = {}, post = {} }, requests) {
  const gets = Object.fromEntries(Object.entries(get).map(([url, body]) => [withoutQuery(url), body]));
  const posts = Object.fromEntries(Object.entries(post).map(([url, body]) => [withoutQuery(url), body]));
  const answer = (method, table) => async (url) => {
    requests.push(`${method} ${withoutQuery(url)}`);
    const body = table[withoutQuery(url)];
    if (body === undefined) throw new Error(`offline: no network for ${method} ${url}`);
    return { status: 200, headers: { 'content-type': 'application/json' }, body };
  };
  return { sendGetRequestAsync: answer('GET', gets), sendPostRequestAsync: answer('POST', posts) };
}

function bridgeClient({ public: publicBase, real }, requests) {
  const from = publicBase.replace(/\/$/, '');
  const to = real.replace(/\/$/, '');
  const forward = (method) => async (url, options = {}) => {
    requests.push(`${method} ${withoutQuery(url)}`);
    if (!url.startsWith(from)) throw new Error(`bridge: ${url} is not under ${from}`);
    const response = await fetch(to + url.slice(from.length), { method, headers: options.headers, body: options.body });
    const text = (await response.text()).replaceAll(to, from);
    const headers = Object.fromEntries(response.headers.entries());
    let body;
    try { body = JSON.parse(text); } catch { body = text; }
    return { status: response.status, headers, body };
  };
  return { sendGetRequestAsync: forward('GET'), sendPostRequestAsync: forward('POST') };
}

async function readStdin() {
  let raw = '';
  for await (const chunk of process.stdin) raw += chunk;
  return JSON.parse(raw);
}

const request = await readStdin();
const requests = [];
const http = request.http;
const networkClient = http.mode === 'offline' ? offlineClient(http, requests) : bridgeClient(http, requests);
const { authority } = request;
const auth = { clientId: request.client_id, clientSecret: request.client_secret };
const system = { networkClient, loggerOptions: { logLevel: LogLevel.Error, loggerCallback: (_, message) => console.error(message) } };
if (authority.oidc) {
  // msal-node's OpenID Connect mode for an authority that is not Entra ID: the authority's host is declared
  // known (no instance discovery), and its discovery document is read from the authority itself.
  auth.authority = authority.oidc;
  auth.knownAuthorities = [new URL(authority.oidc).host];
  system.protocolMode = ProtocolMode.OIDC;
} else {
  auth.authority = authority.entra;
}
const app = new ConfidentialClientApplication({ auth, system });
const cache = app.getTokenCache();
if (request.cache) cache.deserialize(request.cache);

let accounts = await cache.getAllAccounts();
let result = null;
let error = null;
try {
  if (request.command === 'silent') {
    if (accounts.length > 0) {
      result = await app.acquireTokenSilent({
        account: accounts[0],
        scopes: request.scopes,
        forceRefresh: Boolean(request.force_refresh),
      });
    }
  } else if (request.command === 'client_credentials') {
    result = await app.acquireTokenByClientCredential({ scopes: request.scopes });
  } else if (request.command === 'authorization_code') {
    result = await app.acquireTokenByCode({ code: request.code, scopes: request.scopes, redirectUri: request.redirect_uri });
    accounts = await cache.getAllAccounts();
  } else {
    throw new Error(`unknown command ${request.command}`);
  }
} catch (e) {
  error = `${e.errorCode ?? e.name}: ${e.message}`;
}
const summary = (r) => r && {
  access_token: r.accessToken,
  from_cache: r.fromCache,
  scopes: r.scopes,
  home_account_id: r.account?.homeAccountId ?? null,
};
console.log(JSON.stringify({
  accounts: accounts.map((a) => ({
    home_account_id: a.homeAccountId, environment: a.environment, realm: a.tenantId, username: a.username,
    authority_type: a.authorityType ?? null,
  })),
  result: summary(result),
  error,
  requests,
  cache: cache.serialize(),
}));
// fetch keeps its connections to the provider open for a while; the answer is out, so do not wait for them.
process.exit(0);
