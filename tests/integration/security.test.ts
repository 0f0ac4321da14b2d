// Security baseline: strict CSP and headers, the CSRF token and the Origin check on every state-changing request, no-store for signed-in pages.
import t from 'tap';
import { defineFeature } from '../../server/plugin-api.ts';
import { build, Client, clientAs, createUser } from '../helpers/app.ts';

const OWN = { origin: 'http://localhost:80', host: 'localhost:80' };
const FORM = 'application/x-www-form-urlencoded';

/** A visitor that has read the login page, so it holds its CSRF cookie and token. */
async function visitor(app: Client['app']) {
  const client = new Client(app);
  await client.get('/login');
  return client;
}

t.test('every page carries a strict Content-Security-Policy without unsafe-inline or unsafe-eval', async (t) => {
  const { app } = await build(t);
  const { client } = await clientAs(app);
  for (const [who, res] of [
    ['anonymous', await app.inject({ url: '/login' })],
    ['signed in', await client.get('/')],
    ['error page', await app.inject({ url: '/no-such-page' })],
  ] as const) {
    const csp = String(res.headers['content-security-policy'] ?? '');
    t.match(csp, /default-src 'self'/, `${who}: default-src 'self'`);
    t.match(csp, /script-src 'self'(;|$)/, `${who}: scripts only from our origin`);
    t.match(csp, /style-src 'self'(;|$)/, `${who}: styles only from our origin`);
    t.match(csp, /object-src 'none'/, `${who}: no plugins`);
    t.notMatch(csp, /unsafe-inline/, `${who}: no unsafe-inline`);
    t.notMatch(csp, /unsafe-eval/, `${who}: no unsafe-eval`);
  }
});

t.test('pages carry nosniff, frame-ancestors none and a same-origin referrer policy', async (t) => {
  const { app } = await build(t);
  const res = await app.inject({ url: '/login' });
  t.equal(res.statusCode, 200);
  t.equal(res.headers['x-content-type-options'], 'nosniff');
  t.match(String(res.headers['content-security-policy']), /frame-ancestors 'none'/);
  t.equal(res.headers['referrer-policy'], 'same-origin');
  t.match(String(res.headers['permissions-policy']), /geolocation=\(\)/);
});

t.test('a POST without a CSRF token is refused with a 403 page', async (t) => {
  const { app } = await build(t);
  const res = await app.inject({ method: 'POST', url: '/lang', headers: { 'content-type': FORM, ...OWN }, payload: 'lang=fr&next=/' });
  t.equal(res.statusCode, 403);
  t.match(String(res.headers['content-type']), /^text\/html/);
  t.match(res.body, /<html lang="en">/);
  t.match(res.body, 'This form has expired or did not come from Noper.');
  t.notOk(res.cookies.some((c) => c.name === 'lang'), 'nothing was changed');
});

t.test('a JSON client posting without a CSRF token gets {"error":{"code":"CSRF"}}', async (t) => {
  const { app } = await build(t);
  const res = await app.inject({
    method: 'POST',
    url: '/lang',
    headers: { 'content-type': FORM, accept: 'application/json', ...OWN },
    payload: 'lang=fr&next=/',
  });
  t.equal(res.statusCode, 403);
  t.match(String(res.headers['content-type']), /^application\/json/);
  const body = res.json();
  t.equal(body.error.code, 'CSRF');
  t.type(body.error.message, 'string');
  t.ok(body.error.message.length > 0);
});

t.test('a POST with a wrong CSRF token is refused', async (t) => {
  const { app } = await build(t);
  const client = await visitor(app);
  t.ok(client.csrf, 'the page handed out a token');
  const res = await client.request({
    method: 'POST',
    url: '/lang',
    headers: { 'content-type': FORM, accept: 'application/json', ...OWN },
    payload: new URLSearchParams({ _csrf: `${client.csrf!.slice(0, -2)}xx`, lang: 'fr' }).toString(),
  });
  t.equal(res.statusCode, 403);
  t.equal(res.json().error.code, 'CSRF');
});

t.test('a POST with a valid token but a foreign Origin is refused as BAD_ORIGIN', async (t) => {
  const { app } = await build(t);
  const client = await visitor(app);
  const res = await client.post('/lang', { lang: 'fr', next: '/' }, { origin: 'https://evil.example', accept: 'application/json' });
  t.equal(res.statusCode, 403);
  t.equal(res.json().error.code, 'BAD_ORIGIN');
  t.notOk(res.cookies.some((c) => c.name === 'lang'), 'nothing was changed');
});

t.test('a POST with a valid token but a foreign Referer (and no Origin) is refused as BAD_ORIGIN', async (t) => {
  const { app } = await build(t);
  const client = await visitor(app);
  const res = await client.request({
    method: 'POST',
    url: '/lang',
    headers: { 'content-type': FORM, accept: 'application/json', host: 'localhost:80', referer: 'https://evil.example/page' },
    payload: new URLSearchParams({ _csrf: client.csrf!, lang: 'fr' }).toString(),
  });
  t.equal(res.statusCode, 403);
  t.equal(res.json().error.code, 'BAD_ORIGIN');
});

t.test('a POST with a valid token from our own origin passes', async (t) => {
  const { app } = await build(t);
  const client = await visitor(app);
  const res = await client.post('/lang', { lang: 'fr', next: '/login' });
  t.equal(res.statusCode, 303);
  t.equal(res.headers.location, '/login');
  t.ok(res.cookies.some((c) => c.name === 'lang' && c.value === 'fr'), 'the language was switched');
});

t.test('an htmx request may send the token in the X-CSRF-Token header instead of the form field', async (t) => {
  const { app } = await build(t);
  const client = await visitor(app);
  const res = await client.request({
    method: 'POST',
    url: '/lang',
    headers: { 'content-type': FORM, 'hx-request': 'true', 'x-csrf-token': client.csrf!, ...OWN },
    payload: 'lang=de&next=/login',
  });
  t.equal(res.statusCode, 303);
  t.ok(res.cookies.some((c) => c.name === 'lang' && c.value === 'de'));
});

t.test('the token every page hands to htmx (hx-headers) is the one the forms carry', async (t) => {
  const { app } = await build(t);
  const { client } = await clientAs(app);
  const res = await client.get('/');
  const header = /hx-headers='\{"X-CSRF-Token":"([^"]+)"\}'/.exec(res.body)?.[1];
  const field = /name="_csrf" value="([^"]+)"/.exec(res.body)?.[1];
  t.ok(header, 'the body carries the htmx header');
  t.equal(header, field);
});

t.test('a token from one session does not work for another session', async (t) => {
  const { app } = await build(t);
  const alice = (await clientAs(app)).client;
  const bob = (await clientAs(app)).client;
  t.ok(alice.csrf && bob.csrf);
  t.not(alice.csrf, bob.csrf, 'each session has its own token');
  const res = await bob.request({
    method: 'POST',
    url: '/lang',
    headers: { 'content-type': FORM, accept: 'application/json', ...OWN },
    payload: new URLSearchParams({ _csrf: alice.csrf!, lang: 'fr' }).toString(),
  });
  t.equal(res.statusCode, 403);
  t.equal(res.json().error.code, 'CSRF');
});

t.test("an anonymous visitor's token does not work once the visitor has logged in", async (t) => {
  const { app } = await build(t);
  const { client } = await clientAs(app);
  const anonymous = await visitor(app);
  const res = await client.request({
    method: 'POST',
    url: '/lang',
    headers: { 'content-type': FORM, accept: 'application/json', ...OWN },
    payload: new URLSearchParams({ _csrf: anonymous.csrf!, lang: 'fr' }).toString(),
  });
  t.equal(res.statusCode, 403);
  t.equal(res.json().error.code, 'CSRF');
});

t.test('pages of a signed-in user are sent with Cache-Control: no-store', async (t) => {
  const { app } = await build(t);
  const { client } = await clientAs(app);
  const res = await client.get('/');
  t.equal(res.statusCode, 200);
  t.match(res.body, 'action="/logout"', 'really signed in');
  t.equal(res.headers['cache-control'], 'no-store');
  const missing = await client.get('/no-such-page');
  t.equal(missing.statusCode, 404);
  t.equal(missing.headers['cache-control'], 'no-store', 'error pages of a signed-in user too');
});

/** A test-only plugin with its own, tighter rate limit. */
const limited = defineFeature({
  manifest: { id: 'test-limited', version: '1.0.0', coreApi: '^1.0.0', defaultEnabled: true },
  routes(app) {
    app.get('/', { config: { access: 'public', rateLimit: { max: 2, timeWindow: 60_000 } } }, async () => ({ ok: true }));
  },
});

t.test('each rate-limited route counts its own requests: using up one limit does not block another route', async (t) => {
  const { app } = await build(t, { features: [limited] });
  const user = await createUser(app);
  const client = await visitor(app);
  for (let i = 1; i <= 20; i++) await client.post('/login', { email: user.email, password: `wrong ${i}` });
  t.equal((await client.post('/login', { email: user.email, password: user.password })).statusCode, 429, 'the login limit is used up');
  const first = await client.get('/test-limited/', { accept: 'application/json' });
  t.equal(first.statusCode, 200, "another route's limit is untouched");
  await client.get('/test-limited/');
  const third = await client.get('/test-limited/', { accept: 'application/json' });
  t.equal(third.statusCode, 429, 'and that route keeps its own limit');
  t.equal(third.json().error.code, 'RATE_LIMITED');
});

t.test('a refused request (401, 403, 404 of the gate) carries the security headers too', async (t) => {
  const { app } = await build(t);
  const anon = new Client(app);
  for (const url of ['/admin/plugins', '/n/belval']) {
    const res = await anon.get(url);
    t.ok([401, 404].includes(res.statusCode), `${url}: ${res.statusCode}`);
    t.match(String(res.headers['content-security-policy']), /default-src 'self'/, `${url} has a CSP`);
    t.equal(res.headers['x-content-type-options'], 'nosniff');
    t.equal(res.headers['x-frame-options'], 'DENY');
  }
});

t.test('a session in use gets its cookie renewed, so a daily user is not logged out N days after login', async (t) => {
  const { app } = await build(t);
  const { client } = await clientAs(app);
  const [id] = client.cookies.get('noper_session')!.split('.');
  await app.db.updateTable('sessions').set({ last_seen_at: Date.now() - 2 * 3600_000 }).where('id', '=', id!).execute();
  const res = await client.get('/');
  const cookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('noper_session='));
  t.ok(cookie, 'the session cookie is sent again');
  t.match(cookie!, /Max-Age=2592000/);
  t.match(cookie!, /HttpOnly/);
});

t.test('/metrics refuses a loopback request that came through a proxy', async (t) => {
  const { app } = await build(t);
  for (const h of ['x-forwarded-for', 'x-real-ip', 'forwarded']) {
    const res = await app.inject({ method: 'GET', url: '/metrics', headers: { [h]: '203.0.113.9' } });
    t.equal(res.statusCode, 401, h);
  }
  t.equal((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 200, 'the machine itself may read it');
});

t.test('a login with a non-ASCII next goes home instead of failing', async (t) => {
  const { app } = await build(t);
  const user = await createUser(app);
  const c = new Client(app);
  await c.get('/login');
  const res = await c.post('/login', { email: user.email, password: user.password, next: '/日本' });
  t.equal(res.statusCode, 303);
  t.equal(res.headers.location, '/');
});
