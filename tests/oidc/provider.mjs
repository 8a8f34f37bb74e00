// A small, real OpenID Connect provider for Kontor's tests (oidc-provider 9).
//
//   node tests/oidc/provider.mjs [--port N] [--exit-with-stdin]
//
// Binds 127.0.0.1 (port 0 = any free port), then prints exactly one line of
// JSON to stdout: {"issuer":"http://127.0.0.1:PORT","port":PORT}. All logs go
// to stderr. Users, keys, sessions and grants live in memory only.
//
// Besides the provider's own routes it serves the login interaction
// (/interaction/...) and test-control endpoints (/__test/...) described in
// README.md beside this file.

import * as crypto from 'node:crypto';
import * as http from 'node:http';
import { parseArgs } from 'node:util';

import {
  SignJWT,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
} from 'jose';
import { Provider, errors } from 'oidc-provider';

// oidc-provider 9 asks for Node.js 22 LTS; it runs on 20 from 20.18 on
// (URL.parse, crypto.hash), not on older ones.
if (typeof URL.parse !== 'function' || typeof crypto.hash !== 'function') {
  console.error(`oidc-test-provider: Node.js ${process.version} is too old, 20.18 or later is needed`);
  process.exit(1);
}

// Only the ready line may go to stdout; oidc-provider prints notices through
// console.info, so everything console writes goes to stderr.
console.log = console.error;
console.info = console.error;
console.debug = console.error;

const log = (...args) => console.error('oidc-test-provider:', ...args);

// ------------------------------------------------------------- arguments
const { values: argv } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'exit-with-stdin': { type: 'boolean', default: false },
  },
  strict: true,
});
const requestedPort = Number.parseInt(argv.port, 10);
if (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65535) {
  console.error(`invalid --port ${argv.port}`);
  process.exit(2);
}

// ------------------------------------------------------------- constants
const HOST = '127.0.0.1';
const SIG_ALG = 'RS256';
// Resource indicators must be absolute URIs; the access token's audience is
// the plain name Kontor expects.
const API_RESOURCE = 'urn:kontor:api';
const API_AUDIENCE = 'kontor-api';
const API_SCOPE = 'openid profile email';
const TEST_PASSWORD = 'test';
const FAULT_KINDS = new Set([
  'wrong-nonce', 'expired', 'other-audience', 'unknown-key', 'tampered', 'alg-none',
]);
const MINT_KINDS = new Set(['unknown-key', 'tampered', 'alg-none']);
const MAX_BODY = 64 * 1024;

// ------------------------------------------------------------- accounts
const usersByName = new Map();
const usersBySub = new Map();

function putUser({ username, password, name, groups }) {
  const previous = usersByName.get(username);
  if (previous) usersBySub.delete(previous.sub);
  const user = {
    sub: `u-${username}`,
    username,
    password,
    name: name ?? username,
    groups: [...(groups ?? [])],
  };
  usersByName.set(username, user);
  usersBySub.set(user.sub, user);
  return user;
}

putUser({ username: 'betreiber', password: TEST_PASSWORD, name: 'Berta Betrieb', groups: ['kontor-betreiber'] });
putUser({ username: 'finanzen-rz', password: TEST_PASSWORD, name: 'Fritz Finanz', groups: ['kontor-finanzen'] });
putUser({ username: 'niemand', password: TEST_PASSWORD, name: 'Nora Niemand', groups: ['andere-anwendung/nutzer'] });

function userClaims(user) {
  return {
    sub: user.sub,
    name: user.name,
    preferred_username: user.username,
    email: `${user.username}@example.test`,
    email_verified: true,
    groups: [...user.groups],
  };
}

function passwordMatches(user, password) {
  const a = crypto.createHash('sha256').update(user.password).digest();
  const b = crypto.createHash('sha256').update(password).digest();
  return crypto.timingSafeEqual(a, b);
}

// ------------------------------------------------------------- keys
const randomId = (bytes = 12) => crypto.randomBytes(bytes).toString('base64url');

async function newSigningKey() {
  const { privateKey, publicKey } = await generateKeyPair(SIG_ALG, { extractable: true });
  const kid = randomId();
  const privateJwk = { ...await exportJWK(privateKey), kid, use: 'sig', alg: SIG_ALG };
  const publicJwk = { ...await exportJWK(publicKey), kid, use: 'sig', alg: SIG_ALG };
  return { kid, privateKey, publicKey, privateJwk, publicJwk };
}

// Newest first: keys[0] signs, the provider's JWKS lists them in this order.
let keys = [await newSigningKey()];
const signingKey = () => keys[0];

// Cookie signing keys stay the same across key rotations, so sessions made
// before a rotation are still read afterwards.
const cookieKeys = [randomId(32)];

// ------------------------------------------------------------- faults
let pendingFault = null;

const nowSeconds = () => Math.floor(Date.now() / 1000);

function b64urlJson(value) {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function tamperPayload(payload) {
  // Raises privileges and changes the display name: a verifier that skips the
  // signature check would let this through.
  const tampered = { ...payload, groups: ['kontor-betreiber', 'kontor-finanzen', 'manipuliert'] };
  if ('name' in payload) tampered.name = 'Manipuliert';
  return tampered;
}

async function signWith(key, header, payload) {
  return new SignJWT(payload).setProtectedHeader({ ...header, alg: SIG_ALG, kid: key.kid }).sign(key.privateKey);
}

// Returns a token of the given payload broken as `kind` says; `header` are the
// extra header fields of a proper token (typ).
async function brokenToken(kind, header, payload, properlySigned) {
  switch (kind) {
    case 'unknown-key': {
      const stranger = await newSigningKey();
      return signWith(stranger, header, payload);
    }
    case 'tampered': {
      const token = properlySigned ?? await signWith(signingKey(), header, payload);
      const [h, , s] = token.split('.');
      return `${h}.${b64urlJson(tamperPayload(payload))}.${s}`;
    }
    case 'alg-none':
      return `${b64urlJson({ alg: 'none', typ: header.typ ?? 'JWT' })}.${b64urlJson(payload)}.`;
    default:
      throw new Error(`unknown kind ${kind}`);
  }
}

async function faultyIdToken(kind, idToken) {
  const claims = decodeJwt(idToken);
  const { alg: _alg, kid: _kid, ...header } = decodeProtectedHeader(idToken);
  const now = nowSeconds();
  switch (kind) {
    case 'wrong-nonce':
      return signWith(signingKey(), header, { ...claims, nonce: randomId(16) });
    case 'expired':
      return signWith(signingKey(), header, { ...claims, iat: now - 7200, exp: now - 3600 });
    case 'other-audience':
      return signWith(signingKey(), header, { ...claims, aud: 'someone-else' });
    default:
      return brokenToken(kind, header, claims, idToken);
  }
}

// ------------------------------------------------------------- HTML
function esc(value) {
  return String(value)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const STYLE = 'body{font-family:sans-serif;max-width:30rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a;background:#fff}'
  + 'label{display:block;margin-top:1rem}input{display:block;margin-top:.25rem;padding:.4rem;width:100%;box-sizing:border-box}'
  + 'button{margin-top:1.25rem;padding:.5rem 1rem}[role=alert]{border:2px solid #a00;color:#a00;padding:.5rem}';

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="de">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

function loginPage(uid, { error, username = '', clientName } = {}) {
  const action = `/interaction/${encodeURIComponent(uid)}/login`;
  return page('Anmeldung (Test-Anbieter)', `<h1>Anmeldung (Test-Anbieter)</h1>
<p>Anmeldung für <strong>${esc(clientName ?? 'unbekannte Anwendung')}</strong>.</p>
${error ? `<p role="alert" id="login-error">${esc(error)}</p>` : ''}
<form method="post" action="${esc(action)}">
<label for="username">Benutzername</label>
<input id="username" name="username" type="text" autocomplete="username" required value="${esc(username)}"${error ? ' aria-describedby="login-error"' : ''}>
<label for="password">Passwort</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Anmelden</button>
</form>`);
}

// The confirmation page of RP-initiated logout: a plain form, no script.
function logoutPage(ctx) {
  const action = ctx.oidc.urlFor('end_session_confirm');
  const { secret } = ctx.oidc.session.state;
  return page('Abmelden (Test-Anbieter)', `<h1>Abmelden (Test-Anbieter)</h1>
<p>Möchten Sie sich beim Test-Anbieter abmelden?</p>
<form method="post" action="${esc(action)}">
<input type="hidden" name="xsrf" value="${esc(secret)}">
<input type="hidden" name="logout" value="yes">
<button type="submit">Abmelden</button>
</form>`);
}

function messagePage(title, text) {
  return page(title, `<h1>${esc(title)}</h1>\n<p>${esc(text)}</p>`);
}

// ------------------------------------------------------------- plain http helpers
function send(res, status, type, body, headers = {}) {
  const buf = Buffer.from(body ?? '');
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': buf.length,
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(buf);
}

const sendHtml = (res, status, html) => send(res, status, 'text/html; charset=utf-8', html);
const sendJson = (res, status, value) => send(res, status, 'application/json', JSON.stringify(value));
const sendError = (res, status, error) => sendJson(res, status, { error });

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY) throw Object.assign(new Error('request body too large'), { status: 413 });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function readJson(req) {
  const text = await readBody(req);
  if (!text.trim()) return {};
  try {
    const value = JSON.parse(text);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
    return value;
  } catch {
    throw Object.assign(new Error('body must be a JSON object'), { status: 400 });
  }
}

// ------------------------------------------------------------- storage
// oidc-provider's built-in memory adapter keeps one store per Provider
// instance; a key rotation builds a new instance, and sessions, grants and
// codes must survive it. So all instances share this store.
const store = new Map(); // key -> { payload, expiresAt (ms, or Infinity) }
let upsertsSinceSweep = 0;

function storeGet(key) {
  const entry = store.get(key);
  if (!entry) return undefined;
  if (entry.expiresAt <= Date.now()) {
    store.delete(key);
    return undefined;
  }
  return entry.payload;
}

function storeSet(key, payload, expiresAt) {
  store.set(key, { payload, expiresAt });
  upsertsSinceSweep += 1;
  if (upsertsSinceSweep >= 500) {
    upsertsSinceSweep = 0;
    const now = Date.now();
    for (const [k, entry] of store) if (entry.expiresAt <= now) store.delete(k);
  }
}

const GRANTABLE = new Set([
  'AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode',
  'BackchannelAuthenticationRequest', 'PreAuthorizedCode',
]);

class SharedStoreAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity;
    const key = this.key(id);
    storeSet(key, payload, expiresAt);
    if (this.model === 'Session' && payload.uid) storeSet(`sessionUid:${payload.uid}`, id, expiresAt);
    if (payload.userCode) storeSet(`userCode:${payload.userCode}`, id, expiresAt);
    if (GRANTABLE.has(this.model) && payload.grantId) {
      const grantKey = `grant:${payload.grantId}`;
      const members = storeGet(grantKey) ?? new Set();
      members.add(key);
      storeSet(grantKey, members, Infinity);
    }
  }

  async find(id) {
    return id === undefined ? undefined : storeGet(this.key(id));
  }

  async findByUid(uid) {
    return this.find(storeGet(`sessionUid:${uid}`));
  }

  async findByUserCode(userCode) {
    return this.find(storeGet(`userCode:${userCode}`));
  }

  async consume(id) {
    const payload = storeGet(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    store.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    const grantKey = `grant:${grantId}`;
    for (const key of storeGet(grantKey) ?? []) store.delete(key);
    store.delete(grantKey);
  }
}

// ------------------------------------------------------------- provider
const loopbackClients = new Set(['kontor', 'kontor-cli']);

function loopbackUri(value) {
  let url;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return url.protocol === 'http:'
    && (url.hostname === '127.0.0.1' || url.hostname === 'localhost')
    && !url.username && !url.password && !url.hash;
}

let issuer;

function buildProvider() {
  const provider = new Provider(issuer, {
    jwks: { keys: keys.map((k) => k.privateJwk) },
    adapter: (model) => new SharedStoreAdapter(model),
    clients: [
      {
        client_id: 'kontor',
        client_secret: 'kontor-test-secret',
        client_name: 'Kontor',
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: ['http://127.0.0.1/auth/callback'],
        post_logout_redirect_uris: ['http://127.0.0.1/anmelden'],
      },
      {
        client_id: 'kontor-cli',
        client_name: 'Kontor CLI',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: ['http://127.0.0.1/auth/callback'],
        post_logout_redirect_uris: ['http://127.0.0.1/anmelden'],
      },
    ],
    async findAccount(_ctx, sub) {
      const user = usersBySub.get(sub);
      if (!user) return undefined;
      return {
        accountId: user.sub,
        async claims() {
          return userClaims(user);
        },
      };
    },
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username', 'groups'],
      email: ['email', 'email_verified'],
    },
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    cookies: {
      keys: cookieKeys,
      // No `secure`: the provider runs over plain http on loopback.
      long: { httpOnly: true, sameSite: 'lax' },
      short: { httpOnly: true, sameSite: 'lax' },
    },
    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx) {
          ctx.type = 'html';
          ctx.body = logoutPage(ctx);
        },
        async postLogoutSuccessSource(ctx) {
          ctx.type = 'html';
          ctx.body = messagePage('Abgemeldet', 'Sie sind beim Test-Anbieter abgemeldet.');
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => API_RESOURCE,
        // Also use the granted resource when the scope has openid; without
        // this the token endpoint issues an opaque userinfo-only token.
        useGrantedResource: async () => true,
        async getResourceServerInfo(_ctx, resourceIndicator) {
          if (resourceIndicator !== API_RESOURCE) {
            throw new errors.InvalidTarget();
          }
          return {
            scope: API_SCOPE,
            audience: API_AUDIENCE,
            accessTokenFormat: 'jwt',
            accessTokenTTL: 3600,
            jwt: { sign: { alg: SIG_ALG } },
          };
        },
      },
    },
    async extraTokenClaims(_ctx, token) {
      const user = token.accountId ? usersBySub.get(token.accountId) : undefined;
      if (!user) return undefined;
      return { groups: [...user.groups], preferred_username: user.username, name: user.name };
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = page('Fehler (Test-Anbieter)', `<h1>Fehler (Test-Anbieter)</h1>
<dl>
${Object.entries(out).map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('\n')}
</dl>`);
    },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 3600,
      Session: 24 * 3600,
      Grant: 24 * 3600,
    },
  });

  for (const method of ['redirectUriAllowed', 'postLogoutRedirectUriAllowed']) {
    const original = provider.Client.prototype[method];
    provider.Client.prototype[method] = function allowLoopback(value) {
      if (loopbackClients.has(this.clientId) && loopbackUri(value)) return true;
      return original.call(this, value);
    };
  }

  // oidc-provider accepts only the one registered token endpoint auth method
  // per client; let `kontor` use client_secret_post too (secret in the body
  // instead of an Authorization: Basic header).
  const registeredAuthMethod = Object.getOwnPropertyDescriptor(provider.Client.prototype, 'clientAuthMethod').get;
  Object.defineProperty(provider.Client.prototype, 'clientAuthMethod', {
    configurable: true,
    get() {
      const method = registeredAuthMethod.call(this);
      const ctx = Provider.ctx;
      if (method === 'client_secret_basic' && ctx && !/^basic /i.test(ctx.get('authorization'))) {
        return 'client_secret_post';
      }
      return method;
    },
  });

  // Replaces the id_token of the next successful token response if a fault is
  // pending.
  provider.use(async (ctx, next) => {
    await next();
    if (
      pendingFault
      && ctx.method === 'POST'
      && ctx.path === '/token'
      && ctx.status === 200
      && typeof ctx.body?.id_token === 'string'
    ) {
      const kind = pendingFault;
      pendingFault = null;
      ctx.body = { ...ctx.body, id_token: await faultyIdToken(kind, ctx.body.id_token) };
      log(`token response: id_token replaced (${kind})`);
    }
  });

  // Without a session at the provider, end_session answers with a page that
  // submits itself by inline script; show the same plain form instead.
  provider.use(async (ctx, next) => {
    await next();
    if (
      ctx.oidc?.route === 'end_session'
      && ctx.status === 200
      && ctx.oidc.session?.state?.secret
      && !ctx.oidc.session.accountId
    ) {
      ctx.type = 'html';
      ctx.body = logoutPage(ctx);
    }
  });

  provider.on('server_error', (_ctx, err) => log('server_error', err));
  provider.on('authorization.error', (_ctx, err) => log('authorization.error', err.message, err.error_description ?? ''));
  provider.on('grant.error', (_ctx, err) => log('grant.error', err.message, err.error_description ?? ''));
  provider.on('end_session.error', (_ctx, err) => log('end_session.error', err.message, err.error_description ?? ''));

  return { provider, callback: provider.callback() };
}

// ------------------------------------------------------------- interaction
async function grantFor(provider, details, accountId) {
  const { params, prompt } = details;
  let grant;
  if (details.grantId) {
    grant = await provider.Grant.find(details.grantId);
    if (grant && grant.accountId !== accountId) grant = undefined;
  }
  grant ??= new provider.Grant({ accountId, clientId: params.client_id });

  const scope = typeof params.scope === 'string' ? params.scope : 'openid';
  grant.addOIDCScope(scope);

  const claims = new Set(prompt.details.missingOIDCClaims ?? []);
  if (typeof params.claims === 'string') {
    try {
      const requested = JSON.parse(params.claims);
      for (const part of [requested.id_token, requested.userinfo]) {
        if (part && typeof part === 'object') Object.keys(part).forEach((c) => claims.add(c));
      }
    } catch {
      // the provider has already rejected a malformed claims parameter
    }
  }
  if (claims.size) grant.addOIDCClaims([...claims]);
  if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));

  const resources = params.resource === undefined ? [API_RESOURCE] : [params.resource].flat();
  for (const resource of resources) grant.addResourceScope(resource, scope);
  for (const [resource, scopes] of Object.entries(prompt.details.missingResourceScopes ?? {})) {
    grant.addResourceScope(resource, scopes.join(' '));
  }

  return grant.save();
}

async function handleInteraction(provider, req, res, url) {
  const match = /^\/interaction\/([A-Za-z0-9_-]+)(\/login)?$/.exec(url.pathname);
  if (!match) {
    sendHtml(res, 404, messagePage('Nicht gefunden', 'Diese Seite gibt es nicht.'));
    return;
  }
  const [, uid, login] = match;

  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (err) {
    log('interaction:', err.message);
    sendHtml(res, 400, messagePage('Anmeldung abgelaufen', 'Die Anmeldesitzung ist abgelaufen oder unbekannt. Bitte starten Sie die Anmeldung in der Anwendung neu.'));
    return;
  }
  if (details.uid !== uid) {
    sendHtml(res, 400, messagePage('Anmeldung abgelaufen', 'Die Anmeldesitzung passt nicht zu dieser Adresse. Bitte starten Sie die Anmeldung neu.'));
    return;
  }
  const clientId = details.params.client_id;
  const client = await provider.Client.find(clientId);
  const clientName = client?.clientName ?? clientId;

  if (!login) {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed', { Allow: 'GET, HEAD' });
      return;
    }
    const accountId = details.session?.accountId;
    if (details.prompt.name === 'consent' && accountId) {
      const grantId = await grantFor(provider, details, accountId);
      await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      return;
    }
    sendHtml(res, 200, loginPage(uid, {
      clientName,
      username: details.params.login_hint ?? '',
    }));
    return;
  }

  if (req.method !== 'POST') {
    send(res, 405, 'text/plain; charset=utf-8', 'method not allowed', { Allow: 'POST' });
    return;
  }
  const form = new URLSearchParams(await readBody(req));
  const username = form.get('username') ?? '';
  const password = form.get('password') ?? '';
  const user = usersByName.get(username.trim());
  if (!user || !passwordMatches(user, password)) {
    sendHtml(res, 200, loginPage(uid, {
      clientName,
      username,
      error: 'Benutzername oder Passwort ist falsch.',
    }));
    return;
  }

  const grantId = await grantFor(provider, details, user.sub);
  await provider.interactionFinished(
    req,
    res,
    {
      login: { accountId: user.sub },
      consent: { grantId },
    },
    { mergeWithLastSubmission: false },
  );
  log(`login: ${user.username} (${user.sub}) for ${clientId}`);
}

// ------------------------------------------------------------- control endpoints
async function handleControl(req, res, url) {
  const route = `${req.method} ${url.pathname}`;
  switch (route) {
    case 'GET /__test/health':
      send(res, 200, 'text/plain; charset=utf-8', 'ok');
      return;

    case 'POST /__test/users': {
      const body = await readJson(req);
      const { username, password, name, groups = [] } = body;
      if (typeof username !== 'string' || !/^[A-Za-z0-9._@-]{1,64}$/.test(username)) {
        sendError(res, 400, 'username must be 1 to 64 characters of A-Z a-z 0-9 . _ @ -');
        return;
      }
      if (typeof password !== 'string' || !password) {
        sendError(res, 400, 'password must be a non-empty string');
        return;
      }
      if (name !== undefined && typeof name !== 'string') {
        sendError(res, 400, 'name must be a string');
        return;
      }
      if (!Array.isArray(groups) || !groups.every((g) => typeof g === 'string')) {
        sendError(res, 400, 'groups must be an array of strings');
        return;
      }
      const user = putUser({ username, password, name, groups });
      log(`user ${username} (${user.sub}) set, groups ${JSON.stringify(user.groups)}`);
      sendJson(res, 201, { sub: user.sub });
      return;
    }

    case 'POST /__test/fault': {
      const { kind } = await readJson(req);
      if (kind === 'clear') {
        pendingFault = null;
      } else if (FAULT_KINDS.has(kind)) {
        pendingFault = kind;
      } else {
        sendError(res, 400, `kind must be one of ${[...FAULT_KINDS, 'clear'].join(', ')}`);
        return;
      }
      log(`fault: ${kind}`);
      res.writeHead(204, { 'Cache-Control': 'no-store' });
      res.end();
      return;
    }

    case 'POST /__test/mint': {
      const { claims = {}, kind } = await readJson(req);
      if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) {
        sendError(res, 400, 'claims must be an object');
        return;
      }
      if (kind !== undefined && kind !== null && !MINT_KINDS.has(kind)) {
        sendError(res, 400, `kind must be one of ${[...MINT_KINDS].join(', ')}`);
        return;
      }
      const now = nowSeconds();
      const payload = { iss: issuer, iat: now, exp: now + 300, aud: API_AUDIENCE, ...claims };
      for (const [key, value] of Object.entries(payload)) {
        if (value === null) delete payload[key];
      }
      const header = { typ: 'at+jwt' };
      const token = kind
        ? await brokenToken(kind, header, payload)
        : await signWith(signingKey(), header, payload);
      sendJson(res, 200, { token });
      return;
    }

    case 'POST /__test/rotate': {
      const { keep_old: keepOld = true } = await readJson(req);
      if (typeof keepOld !== 'boolean') {
        sendError(res, 400, 'keep_old must be a boolean');
        return;
      }
      const fresh = await newSigningKey();
      const nextKeys = keepOld ? [fresh, ...keys] : [fresh];
      const previousKeys = keys;
      keys = nextKeys;
      try {
        current = buildProvider();
      } catch (err) {
        keys = previousKeys;
        throw err;
      }
      log(`rotated: signing kid ${fresh.kid}, JWKS ${keys.map((k) => k.kid).join(', ')}`);
      sendJson(res, 200, { kid: fresh.kid });
      return;
    }

    default:
      sendError(res, 404, `no control endpoint ${route}`);
  }
}

// ------------------------------------------------------------- server
let current;

async function handle(req, res) {
  // The provider instance of this request, even if a rotation swaps it meanwhile.
  const { provider, callback } = current;
  const url = new URL(req.url, issuer);
  try {
    if (url.pathname.startsWith('/__test/')) {
      await handleControl(req, res, url);
    } else if (url.pathname === '/interaction' || url.pathname.startsWith('/interaction/')) {
      await handleInteraction(provider, req, res, url);
    } else {
      callback(req, res);
    }
  } catch (err) {
    const status = err.status ?? 500;
    log(`${req.method} ${url.pathname}:`, status >= 500 ? err : err.message);
    if (!res.headersSent) {
      if (url.pathname.startsWith('/__test/')) {
        sendError(res, status, err.message);
      } else {
        sendHtml(res, status, messagePage('Fehler (Test-Anbieter)', err.message));
      }
    } else {
      res.end();
    }
  }
}

const server = http.createServer((req, res) => {
  handle(req, res);
});

await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(requestedPort, HOST, resolve);
});
const { port } = server.address();
issuer = `http://${HOST}:${port}`;
current = buildProvider();

function shutdown(why) {
  log(`exiting (${why})`);
  process.exit(0);
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
if (argv['exit-with-stdin']) {
  process.stdin.on('end', () => shutdown('stdin closed'));
  process.stdin.on('close', () => shutdown('stdin closed'));
  process.stdin.on('error', () => shutdown('stdin error'));
  process.stdin.resume();
}

process.stdout.write(`${JSON.stringify({ issuer, port })}\n`);
log(`listening on ${issuer}`);
