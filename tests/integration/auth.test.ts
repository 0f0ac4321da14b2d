// Logging in and out: session cookies, no account enumeration, no fixation, local redirects only, the login rate limit, the stored language.
import t from 'tap';
import { build, Client, clientAs, createUser } from '../helpers/app.ts';
import { SESSION_COOKIE } from '../../server/infra/session.ts';

type Cookie = { name: string; value: string; httpOnly?: boolean; sameSite?: string; path?: string; maxAge?: number };
const sessionCookie = (res: { cookies: unknown[] }) => (res.cookies as Cookie[]).find((c) => c.name === SESSION_COOKIE);

/** A visitor on the login page (holding its CSRF token). */
async function onLoginPage(app: Client['app']) {
  const client = new Client(app);
  const page = await client.get('/login');
  if (page.statusCode !== 200) throw new Error(`login page: ${page.statusCode}`);
  return client;
}

t.test('logging in with the right password answers 303 and sets an HttpOnly, SameSite=Lax session cookie', async (t) => {
  const { app } = await build(t);
  const user = await createUser(app);
  const client = await onLoginPage(app);
  const res = await client.post('/login', { email: user.email, password: user.password });
  t.equal(res.statusCode, 303);
  t.equal(res.headers.location, '/');
  const cookie = sessionCookie(res);
  t.ok(cookie?.value, 'a session cookie is set');
  t.equal(cookie?.httpOnly, true);
  t.equal(cookie?.sameSite, 'Lax');
  t.equal(cookie?.path, '/');
  const home = await client.get('/');
  t.match(home.body, 'action="/logout"', 'the next page is signed in');
});

t.test('the e-mail address is matched without regard to case and surrounding spaces', async (t) => {
  const { app } = await build(t);
  const user = await createUser(app, { email: 'anne.muller@example.lu' });
  const client = await onLoginPage(app);
  const res = await client.post('/login', { email: '  Anne.Muller@Example.LU ', password: user.password });
  t.equal(res.statusCode, 303);
  t.ok(sessionCookie(res)?.value);
});

t.test('a wrong password and an unknown e-mail get the same status and the same page', async (t) => {
  const { app } = await build(t);
  const user = await createUser(app, { email: 'known@example.lu' });
  const client = await onLoginPage(app);
  const wrongPassword = await client.post('/login', { email: 'known@example.lu', password: 'not the password' });
  const unknownEmail = await client.post('/login', { email: 'nobody@example.lu', password: user.password });
  t.equal(wrongPassword.statusCode, 401);
  t.equal(unknownEmail.statusCode, wrongPassword.statusCode);
  t.notOk(sessionCookie(wrongPassword)?.value, 'no session for a wrong password');
  t.notOk(sessionCookie(unknownEmail)?.value, 'no session for an unknown e-mail');
  t.match(wrongPassword.body, 'E-mail address or password is wrong.');
  // The form echoes the address typed; apart from that the two answers are identical.
  const unEcho = (body: string, email: string) => body.replaceAll(`value="${email}"`, 'value="…"');
  t.equal(unEcho(unknownEmail.body, 'nobody@example.lu'), unEcho(wrongPassword.body, 'known@example.lu'));
});

t.test('logging in gives a new session and ends the one the browser had before (no fixation)', async (t) => {
  const { app } = await build(t);
  const { client, user } = await clientAs(app);
  const before = client.cookies.get(SESSION_COOKIE)!;
  t.ok(before, 'the browser holds a session');
  const other = await createUser(app);
  const res = await client.post('/login', { email: other.email, password: other.password });
  t.equal(res.statusCode, 303);
  const after = sessionCookie(res)?.value;
  t.ok(after, 'a session cookie is set');
  t.not(after, before, 'the session token is new');
  const old = await app.inject({ url: '/', cookies: { [SESSION_COOKIE]: before } });
  t.notMatch(old.body, 'action="/logout"', 'the earlier session no longer signs anyone in');
  const count = await app.db.selectFrom('sessions').select('id').where('user_id', '=', user.id).execute();
  t.equal(count.length, 0, 'the earlier session is gone from the database');
});

t.test('a session cookie planted before login is not adopted by the login', async (t) => {
  const { app } = await build(t);
  const user = await createUser(app);
  const client = await onLoginPage(app);
  client.cookies.set(SESSION_COOKIE, 'planted.by-an-attacker');
  const res = await client.post('/login', { email: user.email, password: user.password });
  t.equal(res.statusCode, 303);
  const after = sessionCookie(res)?.value;
  t.ok(after);
  t.not(after, 'planted.by-an-attacker');
  t.notOk(after!.startsWith('planted.'), 'no part of the planted value is kept');
});

t.test('logging out ends the session: the old cookie no longer works', async (t) => {
  const { app } = await build(t);
  const { client } = await clientAs(app, { role: 'admin' });
  const token = client.cookies.get(SESSION_COOKIE)!;
  t.equal((await client.get('/admin/plugins')).statusCode, 200, 'signed in as admin');
  const res = await client.post('/logout');
  t.equal(res.statusCode, 303);
  t.equal(res.headers.location, '/');
  t.ok(res.cookies.some((c) => c.name === SESSION_COOKIE && c.value === ''), 'the browser is told to drop the cookie');
  const replay = await app.inject({ url: '/admin/plugins', cookies: { [SESSION_COOKIE]: token }, headers: { accept: 'application/json' } });
  t.equal(replay.statusCode, 401, 'the old cookie, sent again, is anonymous');
  t.equal(replay.json().error.code, 'UNAUTHENTICATED');
});

t.test('next after login goes to a local path', async (t) => {
  const { app } = await build(t);
  const user = await createUser(app);
  const client = await onLoginPage(app);
  const res = await client.post('/login', { email: user.email, password: user.password, next: '/admin/plugins?x=1' });
  t.equal(res.statusCode, 303);
  t.equal(res.headers.location, '/admin/plugins?x=1');
});

// Browsers drop tabs and newlines inside a URL, so "/<tab>/evil.example" is followed as "//evil.example".
for (const next of ['//evil.example', 'https://evil.example/', '/\\evil.example', 'javascript:alert(1)', 'evil.example', '/\t/evil.example', '/\n/evil.example']) {
  t.test(`next=${JSON.stringify(next)} after login redirects to / instead`, async (t) => {
    const { app } = await build(t);
    const user = await createUser(app);
    const client = await onLoginPage(app);
    const res = await client.post('/login', { email: user.email, password: user.password, next });
    t.equal(res.statusCode, 303);
    t.equal(res.headers.location, '/');
  });
}

t.test('the login form does not carry a foreign next into its hidden field', async (t) => {
  const { app } = await build(t);
  const res = await app.inject({ url: '/login?next=//evil.example' });
  t.equal(res.statusCode, 200);
  t.match(res.body, 'name="next" value="/"');
  t.notMatch(res.body, /value="[^"]*evil\.example/);
});

/** 20 failed logins from one address, each with a valid token; each for another e-mail address, so that only the per-address limit is reached. */
async function exhaustLoginLimit(t: { fail(message: string): unknown }, client: Client, headers: Record<string, string> = {}) {
  for (let i = 1; i <= 20; i++) {
    const res = await client.post('/login', { email: `guess-${i}@example.lu`, password: `wrong ${i}` }, headers);
    if (res.statusCode !== 401) t.fail(`attempt ${i} answered ${res.statusCode}`);
  }
}

t.test('the 21st login attempt from one address within a minute answers 429 with Retry-After', async (t) => {
  const { app } = await build(t);
  const user = await createUser(app);
  const client = await onLoginPage(app);
  await exhaustLoginLimit(t, client);
  const res = await client.post('/login', { email: user.email, password: user.password });
  t.equal(res.statusCode, 429);
  const retryAfter = Number(res.headers['retry-after']);
  t.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After is whole seconds within the window (${res.headers['retry-after']})`);
  t.notOk(sessionCookie(res)?.value, 'not even the right password gets in');
  t.match(res.body, 'Too many attempts.');
});

t.test('a spoofed X-Forwarded-For does not reset the login limit when TRUST_PROXY is unset', async (t) => {
  const { app } = await build(t);
  const user = await createUser(app);
  const client = await onLoginPage(app);
  await exhaustLoginLimit(t, client, { 'x-forwarded-for': '198.51.100.1' });
  const res = await client.post('/login', { email: user.email, password: user.password }, { 'x-forwarded-for': '198.51.100.2' });
  t.equal(res.statusCode, 429);
  t.ok(res.headers['retry-after']);
});

t.test('behind a configured proxy each forwarded client address has its own login limit', async (t) => {
  const { app } = await build(t, { env: { TRUST_PROXY: '127.0.0.1' } });
  const user = await createUser(app);
  const client = await onLoginPage(app);
  await exhaustLoginLimit(t, client, { 'x-forwarded-for': '198.51.100.1' });
  const limited = await client.post('/login', { email: user.email, password: user.password }, { 'x-forwarded-for': '198.51.100.1' });
  t.equal(limited.statusCode, 429, 'the client that tried 20 times is limited');
  const other = await client.post('/login', { email: user.email, password: user.password }, { 'x-forwarded-for': '198.51.100.2' });
  t.equal(other.statusCode, 303, 'another resident behind the same proxy is not');
});

t.test('POST /lang as a signed-in user stores the language and the next page is in it', async (t) => {
  const { app } = await build(t);
  const { client, user } = await clientAs(app);
  t.match((await client.get('/')).body, '<html lang="en">');
  const res = await client.post('/lang', { lang: 'fr', next: '/' });
  t.equal(res.statusCode, 303);
  t.equal(res.headers.location, '/');
  const row = await app.db.selectFrom('users').select('lang').where('id', '=', user.id).executeTakeFirstOrThrow();
  t.equal(row.lang, 'fr', 'stored on the account');
  const next = await client.get('/');
  t.match(next.body, '<html lang="fr">');
  // The setting follows the person, not the browser: a fresh browser that logs in gets French too.
  const elsewhere = new Client(app);
  await elsewhere.login(user.email, user.password);
  const page = await elsewhere.get('/', { 'accept-language': 'de' });
  t.match(page.body, '<html lang="fr">');
});

t.test('POST /lang with an unknown language changes nothing', async (t) => {
  const { app } = await build(t);
  const { client, user } = await clientAs(app);
  const res = await client.post('/lang', { lang: 'xx', next: '/' });
  t.equal(res.statusCode, 303);
  const row = await app.db.selectFrom('users').select('lang').where('id', '=', user.id).executeTakeFirstOrThrow();
  t.equal(row.lang, null);
  t.match((await client.get('/')).body, '<html lang="en">');
});

t.test("?lang= on any page switches a visitor's language and the next page keeps it", async (t) => {
  const { app } = await build(t);
  const client = new Client(app);
  const switched = await client.get('/login?lang=de', { 'accept-language': 'fr' });
  t.match(switched.body, '<html lang="de">');
  t.ok(switched.cookies.some((c) => c.name === 'lang' && c.value === 'de'), 'remembered in the lang cookie');
  const next = await client.get('/login', { 'accept-language': 'fr' });
  t.match(next.body, '<html lang="de">', 'the cookie wins over Accept-Language');
});
