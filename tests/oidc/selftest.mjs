// Checks the test OpenID provider end to end, as a relying party would:
//
//   node tests/oidc/selftest.mjs
//
// Starts provider.mjs beside this file on a free port, logs in through the
// login form with plain HTTP requests (cookies and redirects by hand), and
// exercises the test-control endpoints. Uses node's test runner.

import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  compactVerify, createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify,
} from 'jose';

const PROVIDER = fileURLToPath(new URL('./provider.mjs', import.meta.url));
const REDIRECT_URI = 'http://127.0.0.1:45678/auth/callback';
const POST_LOGOUT_URI = 'http://127.0.0.1:45678/anmelden';
const SECRET = 'kontor-test-secret';

let child;
let issuer;
let discovery;

// ------------------------------------------------------------------ helpers
class CookieJar {
  #cookies = new Map(); // "name path" -> { name, value, path }

  store(url, response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = '/';
      let expired = false;
      for (const attr of attrs) {
        const [k, v = ''] = attr.split('=');
        if (k.toLowerCase() === 'path') path = v;
        if (k.toLowerCase() === 'expires' && Date.parse(v) <= Date.now()) expired = true;
        if (k.toLowerCase() === 'max-age' && Number(v) <= 0) expired = true;
      }
      const key = `${name} ${path}`;
      if (expired || value === '') this.#cookies.delete(key);
      else this.#cookies.set(key, { name, value, path });
    }
    void url;
  }

  header(url) {
    const { pathname } = new URL(url);
    const matching = [...this.#cookies.values()].filter(({ path }) => pathname === path
      || pathname.startsWith(path.endsWith('/') ? path : `${path}/`));
    return matching.map(({ name, value }) => `${name}=${value}`).join('; ');
  }

  names() {
    return [...this.#cookies.values()].map(({ name, path }) => `${name} ${path}`);
  }
}

async function request(jar, url, { method = 'GET', form, headers = {} } = {}) {
  const h = { ...headers };
  const cookie = jar?.header(url);
  if (cookie) h.cookie = cookie;
  let body;
  if (form) {
    body = new URLSearchParams(form).toString();
    h['content-type'] = 'application/x-www-form-urlencoded';
  }
  const response = await fetch(url, {
    method, headers: h, body, redirect: 'manual',
  });
  jar?.store(url, response);
  const text = await response.text();
  const location = response.headers.get('location');
  return {
    status: response.status,
    headers: response.headers,
    text,
    location: location ? new URL(location, url).href : null,
  };
}

async function control(path, body) {
  const response = await fetch(`${issuer}/__test/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

const b64url = (buf) => Buffer.from(buf).toString('base64url');

function pkce() {
  const verifier = b64url(crypto.randomBytes(32));
  const challenge = b64url(crypto.createHash('sha256').update(verifier).digest());
  return { verifier, challenge };
}

function formFrom(html) {
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  const fields = {};
  for (const m of html.matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)) {
    fields[m[1]] = m[2];
  }
  return { action: action && action.replaceAll('&amp;', '&'), fields };
}

// Runs the authorization code flow. `steps` says what the provider should do:
// 'form' shows the login form, 'consent' grants at once on the interaction
// page (logged in, new client), 'none' answers straight away (logged in,
// client already granted). Returns the code, the code verifier, the nonce and
// the jar (the browser session).
async function authorize({
  clientId = 'kontor', username = 'betreiber', password = 'test',
  scope = 'openid profile email', jar = new CookieJar(), steps = 'form',
} = {}) {
  const { verifier, challenge } = pkce();
  const state = b64url(crypto.randomBytes(12));
  const nonce = b64url(crypto.randomBytes(12));
  const auth = new URL(discovery.authorization_endpoint);
  auth.search = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope,
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();

  let r = await request(jar, auth.href);
  assert.equal(r.status, 303, r.text);
  if (steps !== 'none') {
    assert.match(r.location, /\/interaction\/[A-Za-z0-9_-]+$/);
    const interactionUrl = r.location;

    r = await request(jar, interactionUrl);
    if (steps === 'form') {
      assert.equal(r.status, 200, r.text);
      const { action } = formFrom(r.text);
      assert.equal(action, `${new URL(interactionUrl).pathname}/login`);
      r = await request(jar, new URL(action, issuer).href, {
        method: 'POST', form: { username, password },
      });
    }
    assert.equal(r.status, 303, r.text);
    assert.match(r.location, new RegExp(`^${issuer}/auth/[A-Za-z0-9_-]+$`));

    r = await request(jar, r.location);
    assert.equal(r.status, 303, r.text);
  }
  const callback = new URL(r.location);
  assert.equal(`${callback.origin}${callback.pathname}`, REDIRECT_URI);
  assert.equal(callback.searchParams.get('error'), null, callback.href);
  assert.equal(callback.searchParams.get('state'), state);
  assert.equal(callback.searchParams.get('iss'), issuer);
  return {
    code: callback.searchParams.get('code'), verifier, nonce, jar,
  };
}

async function exchange({
  clientId = 'kontor', code, verifier, auth = 'basic', secret = SECRET,
}) {
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  const form = {
    grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier,
  };
  if (clientId === 'kontor' && auth === 'basic') {
    headers.authorization = `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`;
  } else if (clientId === 'kontor') {
    form.client_id = clientId;
    form.client_secret = secret;
  } else {
    form.client_id = clientId;
  }
  const response = await fetch(discovery.token_endpoint, {
    method: 'POST', headers, body: new URLSearchParams(form).toString(),
  });
  return { status: response.status, json: await response.json() };
}

async function tokens(options = {}) {
  const { code, verifier, nonce } = await authorize(options);
  const r = await exchange({ clientId: options.clientId, code, verifier });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return { ...r.json, nonce };
}

async function jwks() {
  const response = await fetch(discovery.jwks_uri);
  return response.json();
}

async function verify(token, audience) {
  return jwtVerify(token, createLocalJWKSet(await jwks()), { issuer, audience });
}

// Checks the signature only, not the claims.
function signatureValidAgainst(token, jwkSet) {
  return compactVerify(token, createLocalJWKSet(jwkSet)).then(() => true, () => false);
}

// ------------------------------------------------------------------ setup
before(async () => {
  child = spawn(process.execPath, [PROVIDER, '--port', '0', '--exit-with-stdin'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const [line] = await once(lines, 'line');
  const ready = JSON.parse(line);
  assert.deepEqual(Object.keys(ready).sort(), ['issuer', 'port']);
  assert.equal(ready.issuer, `http://127.0.0.1:${ready.port}`);
  issuer = ready.issuer;
  lines.on('line', (extra) => assert.fail(`provider printed a second stdout line: ${extra}`));
  discovery = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
});

after(() => {
  if (child.exitCode === null) child.kill('SIGTERM');
});

// ------------------------------------------------------------------ tests
test('health and discovery', async () => {
  const health = await fetch(`${issuer}/__test/health`);
  assert.equal(health.status, 200);
  assert.equal(await health.text(), 'ok');
  assert.equal(discovery.issuer, issuer);
  assert.equal(discovery.end_session_endpoint, `${issuer}/session/end`);
  assert.equal(discovery.jwks_uri, `${issuer}/jwks`);
  assert.equal(discovery.authorization_endpoint, `${issuer}/auth`);
  assert.equal(discovery.token_endpoint, `${issuer}/token`);
  assert.deepEqual(discovery.code_challenge_methods_supported, ['S256']);
  for (const claim of ['groups', 'name', 'preferred_username', 'email']) {
    assert.ok(discovery.claims_supported.includes(claim), claim);
  }
  const set = await jwks();
  assert.equal(set.keys.length, 1);
  assert.equal(set.keys[0].alg, 'RS256');
  assert.equal(set.keys[0].d, undefined, 'JWKS must not leak the private key');
});

test('login page is plain, labelled German HTML; wrong password shows an alert', async () => {
  const jar = new CookieJar();
  const { challenge } = pkce();
  const auth = `${discovery.authorization_endpoint}?${new URLSearchParams({
    client_id: 'kontor', response_type: 'code', redirect_uri: REDIRECT_URI, scope: 'openid', state: 's',
    code_challenge: challenge, code_challenge_method: 'S256',
  })}`;
  let r = await request(jar, auth);
  assert.equal(r.status, 303);
  const interaction = r.location;
  r = await request(jar, interaction);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/html/);
  assert.match(r.text, /<html lang="de">/);
  assert.match(r.text, /<main>/);
  assert.match(r.text, /<h1>Anmeldung \(Test-Anbieter\)<\/h1>/);
  assert.match(r.text, /<label for="username">Benutzername<\/label>\s*<input id="username" name="username"/);
  assert.match(r.text, /<label for="password">Passwort<\/label>\s*<input id="password" name="password" type="password"/);
  assert.match(r.text, /<button type="submit">Anmelden<\/button>/);
  assert.match(r.text, /Anmeldung für <strong>Kontor<\/strong>/);
  assert.doesNotMatch(r.text, /<script/);
  assert.doesNotMatch(r.text, /role="alert"/);

  r = await request(jar, `${interaction}/login`, { method: 'POST', form: { username: 'betreiber', password: 'falsch' } });
  assert.equal(r.status, 200);
  assert.match(r.text, /role="alert"[^>]*>Benutzername oder Passwort ist falsch\./);
  assert.match(r.text, /value="betreiber"/);

  // Another interaction's address with this interaction's cookie: refused.
  const other = await request(jar, `${issuer}/interaction/someotheruid`);
  assert.equal(other.status, 400);

  // The same interaction still accepts the right password afterwards.
  r = await request(jar, `${interaction}/login`, { method: 'POST', form: { username: 'betreiber', password: 'test' } });
  assert.equal(r.status, 303);
});

test('PKCE is required', async () => {
  const auth = `${discovery.authorization_endpoint}?${new URLSearchParams({
    client_id: 'kontor', response_type: 'code', redirect_uri: REDIRECT_URI, scope: 'openid', state: 's',
  })}`;
  const r = await request(new CookieJar(), auth);
  assert.equal(r.status, 303);
  const cb = new URL(r.location);
  assert.equal(`${cb.origin}${cb.pathname}`, REDIRECT_URI);
  assert.equal(cb.searchParams.get('error'), 'invalid_request');
});

test('unknown resource indicators are refused', async () => {
  const { challenge } = pkce();
  const r = await request(new CookieJar(), `${discovery.authorization_endpoint}?${new URLSearchParams({
    client_id: 'kontor', response_type: 'code', redirect_uri: REDIRECT_URI, scope: 'openid',
    resource: 'urn:other:api', code_challenge: challenge, code_challenge_method: 'S256',
  })}`);
  assert.equal(r.status, 303);
  assert.equal(new URL(r.location).searchParams.get('error'), 'invalid_target');
});

test('any loopback redirect URI is allowed, others are refused', async () => {
  const { challenge } = pkce();
  for (const uri of ['http://localhost:5555/irgendwo', 'http://127.0.0.1:1/']) {
    const ok = await request(new CookieJar(), `${discovery.authorization_endpoint}?${new URLSearchParams({
      client_id: 'kontor-cli', response_type: 'code', redirect_uri: uri,
      scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256',
    })}`);
    assert.equal(ok.status, 303, ok.text);
    assert.match(ok.location, /\/interaction\//);
  }

  const auth = `${discovery.authorization_endpoint}?${new URLSearchParams({
    client_id: 'kontor', response_type: 'code', redirect_uri: 'http://example.test/auth/callback',
    scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256',
  })}`;
  const r = await request(new CookieJar(), auth);
  assert.equal(r.status, 400);
  assert.match(r.text, /redirect_uri did not match any of the client&#39;s registered redirect_uris|redirect_uri/);
});

test('code flow for kontor: ID token and JWT access token', async () => {
  const { code, verifier, nonce } = await authorize();
  const r = await exchange({ code, verifier });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.token_type, 'Bearer');

  const { payload: id, protectedHeader } = await verify(r.json.id_token, 'kontor');
  assert.equal(protectedHeader.alg, 'RS256');
  assert.equal(id.nonce, nonce);
  assert.equal(id.sub, 'u-betreiber');
  assert.equal(id.name, 'Berta Betrieb');
  assert.equal(id.preferred_username, 'betreiber');
  assert.equal(id.email, 'betreiber@example.test');
  assert.equal(id.email_verified, true);
  assert.deepEqual(id.groups, ['kontor-betreiber']);
  assert.ok(id.exp > Date.now() / 1000 + 600);

  const { payload: at, protectedHeader: atHeader } = await verify(r.json.access_token, 'kontor-api');
  assert.equal(atHeader.typ, 'at+jwt');
  assert.equal(at.sub, 'u-betreiber');
  assert.equal(at.client_id, 'kontor');
  assert.deepEqual(at.groups, ['kontor-betreiber']);
  assert.equal(at.preferred_username, 'betreiber');
  assert.equal(at.name, 'Berta Betrieb');
  assert.equal(at.scope, 'openid profile email');

  const again = await exchange({ code, verifier });
  assert.equal(again.status, 400);
  assert.equal(again.json.error, 'invalid_grant');
});

test('kontor may send its secret in the body; wrong secrets and PKCE verifiers fail', async () => {
  let a = await authorize();
  let r = await exchange({ code: a.code, verifier: a.verifier, auth: 'post' });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(decodeJwt(r.json.id_token).aud, 'kontor');

  a = await authorize();
  r = await exchange({ code: a.code, verifier: a.verifier, secret: 'falsch' });
  assert.equal(r.status, 401);
  assert.equal(r.json.error, 'invalid_client');
  r = await exchange({ code: a.code, verifier: a.verifier, auth: 'post', secret: 'falsch' });
  assert.equal(r.status, 401);
  r = await exchange({ code: a.code, verifier: pkce().verifier });
  assert.equal(r.status, 400);
  assert.equal(r.json.error, 'invalid_grant');
});

test('code flow for the public client kontor-cli; single sign-on skips the form', async () => {
  const { code, verifier, jar } = await authorize({ clientId: 'kontor-cli', username: 'finanzen-rz' });
  const r = await exchange({ clientId: 'kontor-cli', code, verifier });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  const { payload: at } = await verify(r.json.access_token, 'kontor-api');
  assert.equal(at.sub, 'u-finanzen-rz');
  assert.equal(at.client_id, 'kontor-cli');
  assert.deepEqual(at.groups, ['kontor-finanzen']);

  // Same browser session, other client: consent is given without the form.
  const sso = await authorize({ clientId: 'kontor', jar, steps: 'consent' });
  const t = await exchange({ code: sso.code, verifier: sso.verifier });
  assert.equal(t.status, 200);
  assert.equal(decodeJwt(t.json.id_token).sub, 'u-finanzen-rz');
});

test('faults replace the next id_token once', async () => {
  const real = await jwks();
  const check = {
    async 'wrong-nonce'(token, nonce) {
      const { payload } = await verify(token, 'kontor');
      assert.notEqual(payload.nonce, nonce);
      assert.ok(payload.nonce);
    },
    async expired(token) {
      assert.ok(await signatureValidAgainst(token, real));
      const payload = decodeJwt(token);
      const now = Date.now() / 1000;
      assert.ok(Math.abs(payload.exp - (now - 3600)) < 10);
      assert.ok(Math.abs(payload.iat - (now - 7200)) < 10);
      await assert.rejects(verify(token, 'kontor'), { code: 'ERR_JWT_EXPIRED' });
    },
    async 'other-audience'(token) {
      assert.ok(await signatureValidAgainst(token, real));
      assert.equal(decodeJwt(token).aud, 'someone-else');
    },
    async 'unknown-key'(token, nonce) {
      const header = decodeProtectedHeader(token);
      assert.equal(header.alg, 'RS256');
      assert.ok(header.kid);
      assert.ok(!real.keys.some((k) => k.kid === header.kid));
      assert.equal(decodeJwt(token).nonce, nonce);
      assert.ok(!await signatureValidAgainst(token, real));
    },
    async tampered(token) {
      assert.equal(decodeJwt(token).name, 'Manipuliert');
      assert.ok(decodeJwt(token).groups.includes('manipuliert'));
      assert.ok(!await signatureValidAgainst(token, real));
    },
    async 'alg-none'(token, nonce) {
      assert.deepEqual(decodeProtectedHeader(token), { alg: 'none', typ: 'JWT' });
      assert.ok(token.endsWith('.'));
      assert.equal(decodeJwt(token).nonce, nonce);
      assert.equal(decodeJwt(token).sub, 'u-betreiber');
    },
  };
  for (const [kind, fn] of Object.entries(check)) {
    const f = await control('fault', { kind });
    assert.equal(f.status, 204, kind);
    const broken = await tokens();
    await fn(broken.id_token, broken.nonce);
    // The access token is left alone.
    await verify(broken.access_token, 'kontor-api');
    // Only once.
    const fine = await tokens();
    await verify(fine.id_token, 'kontor');
  }

  assert.equal((await control('fault', { kind: 'expired' })).status, 204);
  assert.equal((await control('fault', { kind: 'clear' })).status, 204);
  await verify((await tokens()).id_token, 'kontor');

  assert.equal((await control('fault', { kind: 'nonsense' })).status, 400);
});

test('mint signs access-token-like JWTs', async () => {
  const real = await jwks();
  let r = await control('mint', { claims: { sub: 'u-betreiber', groups: ['kontor-betreiber'] } });
  assert.equal(r.status, 200);
  const { payload, protectedHeader } = await verify(r.json.token, 'kontor-api');
  assert.equal(protectedHeader.typ, 'at+jwt');
  assert.equal(protectedHeader.kid, real.keys[0].kid);
  assert.equal(payload.sub, 'u-betreiber');
  assert.ok(payload.exp - payload.iat === 300);

  r = await control('mint', { claims: { aud: 'anders', exp: null, iss: 'http://fremd' } });
  const p = decodeJwt(r.json.token);
  assert.equal(p.aud, 'anders');
  assert.equal(p.exp, undefined);
  assert.equal(p.iss, 'http://fremd');
  assert.ok(await signatureValidAgainst(r.json.token, real));

  r = await control('mint', { claims: { sub: 'x' }, kind: 'unknown-key' });
  assert.ok(!await signatureValidAgainst(r.json.token, real));
  assert.equal(decodeJwt(r.json.token).sub, 'x');
  r = await control('mint', { claims: { sub: 'x' }, kind: 'tampered' });
  assert.ok(!await signatureValidAgainst(r.json.token, real));
  assert.ok(decodeJwt(r.json.token).groups.includes('manipuliert'));
  r = await control('mint', { claims: { sub: 'x' }, kind: 'alg-none' });
  assert.deepEqual(decodeProtectedHeader(r.json.token), { alg: 'none', typ: 'at+jwt' });
  assert.ok(r.json.token.endsWith('.'));

  assert.equal((await control('mint', { kind: 'expired' })).status, 400);
});

test('users added at runtime can log in', async () => {
  const r = await control('users', {
    username: 'neu', password: 'geheim', name: 'Nina Neu', groups: ['kontor-finanzen', 'kontor-betreiber'],
  });
  assert.equal(r.status, 201);
  assert.deepEqual(r.json, { sub: 'u-neu' });
  const t = await tokens({ username: 'neu', password: 'geheim' });
  const { payload } = await verify(t.id_token, 'kontor');
  assert.equal(payload.sub, 'u-neu');
  assert.equal(payload.name, 'Nina Neu');
  assert.deepEqual(payload.groups, ['kontor-finanzen', 'kontor-betreiber']);

  // Replacing changes the claims, not the sub.
  await control('users', { username: 'neu', password: 'anders', name: 'Nina Neu', groups: [] });
  const t2 = await tokens({ username: 'neu', password: 'anders' });
  assert.deepEqual(decodeJwt(t2.id_token).groups, []);
  assert.equal(decodeJwt(t2.id_token).sub, 'u-neu');

  assert.equal((await control('users', { username: '', password: 'x' })).status, 400);
});

test('logout through end_session ends at the post_logout_redirect_uri', async () => {
  const { code, verifier, jar } = await authorize();
  const t = await exchange({ code, verifier });
  const url = `${discovery.end_session_endpoint}?${new URLSearchParams({
    id_token_hint: t.json.id_token, post_logout_redirect_uri: POST_LOGOUT_URI, state: 'abc',
  })}`;
  let r = await request(jar, url);
  assert.equal(r.status, 200, r.text);
  assert.match(r.text, /<html lang="de">/);
  assert.match(r.text, /<button type="submit">Abmelden<\/button>/);
  assert.doesNotMatch(r.text, /<script/);
  const { action, fields } = formFrom(r.text);
  assert.equal(action, `${issuer}/session/end/confirm`);
  assert.equal(fields.logout, 'yes');
  r = await request(jar, action, { method: 'POST', form: fields });
  assert.equal(r.status, 303);
  assert.equal(r.location, `${POST_LOGOUT_URI}?state=abc`);

  // Logging out again without a session at the provider: the same form.
  r = await request(jar, url);
  assert.equal(r.status, 200, r.text);
  assert.match(r.text, /<button type="submit">Abmelden<\/button>/);
  assert.doesNotMatch(r.text, /<script/);
  const again = formFrom(r.text);
  r = await request(jar, again.action, { method: 'POST', form: again.fields });
  assert.equal(r.status, 303);
  assert.equal(r.location, `${POST_LOGOUT_URI}?state=abc`);

  // Without post_logout_redirect_uri it ends on the provider's own page.
  r = await request(jar, discovery.end_session_endpoint);
  const plain = formFrom(r.text);
  r = await request(jar, plain.action, { method: 'POST', form: plain.fields });
  assert.equal(r.status, 303);
  assert.equal(r.location, `${issuer}/session/end/success`);
  r = await request(jar, r.location);
  assert.equal(r.status, 200);
  assert.match(r.text, /<h1>Abgemeldet<\/h1>/);
  assert.doesNotMatch(r.text, /<script/);

  // The session is gone: the next authorization shows the form again.
  await authorize({ jar });

  // Not allowed: another host.
  r = await request(jar, `${discovery.end_session_endpoint}?${new URLSearchParams({
    id_token_hint: t.json.id_token, post_logout_redirect_uri: 'http://example.test/',
  })}`);
  assert.equal(r.status, 400);
});

test('rotate: new key signs, JWKS lists it first, old kept or dropped', async () => {
  const before = await jwks();
  const { code: earlyCode, verifier: earlyVerifier, jar } = await authorize();

  let r = await control('rotate', { keep_old: true });
  assert.equal(r.status, 200);
  const { kid } = r.json;
  const after1 = await jwks();
  assert.deepEqual(after1.keys.map((k) => k.kid), [kid, ...before.keys.map((k) => k.kid)]);

  r = await control('mint', { claims: { sub: 'u-betreiber' } });
  assert.equal(decodeProtectedHeader(r.json.token).kid, kid);
  await verify(r.json.token, 'kontor-api');

  // A code issued before the rotation still works; tokens use the new key.
  const early = await exchange({ code: earlyCode, verifier: earlyVerifier });
  assert.equal(early.status, 200, JSON.stringify(early.json));
  assert.equal(decodeProtectedHeader(early.json.id_token).kid, kid);
  // The browser session and its grant survive the rotation.
  await authorize({ jar, steps: 'none' });

  const t = await tokens();
  assert.equal(decodeProtectedHeader(t.id_token).kid, kid);
  assert.equal(decodeProtectedHeader(t.access_token).kid, kid);
  await verify(t.id_token, 'kontor');

  r = await control('rotate', { keep_old: false });
  const after2 = await jwks();
  assert.deepEqual(after2.keys.map((k) => k.kid), [r.json.kid]);
  const t2 = await tokens();
  await verify(t2.id_token, 'kontor');
  assert.ok(!await signatureValidAgainst(t.id_token, after2));
});

test('exits when its stdin closes', async () => {
  const exited = once(child, 'exit');
  child.stdin.end();
  const [codeOrNull] = await exited;
  assert.equal(codeOrNull, 0);
});
