// GET /account: the hub's links, the list of my sessions (end one, log out everywhere else) and the password change, with live sockets closed.
import t from 'tap';
import type { WebSocket } from 'ws';
import { build, Client, clientAs, createUser } from '../helpers/app.ts';
import { SESSION_COOKIE } from '../../server/infra/session.ts';

type App = Awaited<ReturnType<typeof build>>['app'];

const FIREFOX_ANDROID = 'Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0';
const SAFARI_IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
const CHROME_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';

/** A browser that logs in through the real form with this User-Agent. */
async function browserOf(app: App, user: { email: string; password: string }, userAgent: string) {
  const client = new Client(app);
  await client.get('/login', { 'user-agent': userAgent });
  const res = await client.post('/login', { email: user.email, password: user.password }, { 'user-agent': userAgent });
  if (res.statusCode !== 303) throw new Error(`login failed: ${res.statusCode}`);
  await client.get('/account', { 'user-agent': userAgent }); // the session's CSRF token
  return client;
}

/** Whether this browser is still signed in. */
async function signedIn(client: Client): Promise<boolean> {
  const res = await client.app.inject({ url: '/account', headers: { cookie: client.cookieHeader, accept: 'application/json' } });
  return res.statusCode === 200;
}

/** The hidden handle of the session listed under this device name. */
function handleOf(page: string, device: string): string {
  for (const item of page.split('<li class="session').slice(1)) {
    if (item.includes(`<strong>${device}</strong>`)) return /name="session" value="([^"]+)"/.exec(item)![1]!;
  }
  throw new Error(`no session for ${device}`);
}

function closed(ws: WebSocket): Promise<number> {
  return new Promise((r) => ws.once('close', (code: number) => r(code)));
}

t.test('the account page links to address, profile and data, and lists my sessions by device with this one marked', async (t) => {
  const { app } = await build(t);
  const user = await createUser(app, { name: 'Anouk Muller' });
  await browserOf(app, user, SAFARI_IPHONE);
  const phone = await browserOf(app, user, FIREFOX_ANDROID);
  const res = await phone.get('/account');
  t.equal(res.statusCode, 200);
  t.match(res.headers['cache-control'], 'no-store');
  for (const href of ['/account/address', '/account/profile', '/account/data']) t.match(res.body, `href="${href}"`, `links to ${href}`);
  t.match(res.body, '<strong>Firefox on Android</strong> <span class="state on">This device</span>', 'this session, marked');
  t.match(res.body, '<strong>Safari on iPhone</strong>', 'the other session');
  t.equal(res.body.split('This device').length - 1, 1, 'only one session is marked as this one');
  t.match(res.body, 'action="/account/sessions/end-others"');
  t.match(res.body, /<form method="post" action="\/account\/password"[\s\S]*name="_csrf" value="[^"]+"/);
  t.notMatch(res.body, 'style=', 'no inline styles');
  t.notMatch(res.body, /<script>|<script [^>]*>[^<]/, 'no inline scripts');
  const rows = await app.db.selectFrom('sessions').selectAll().where('user_id', '=', user.id).execute();
  t.same(rows.map((r) => [r.browser, r.os]).sort(), [['Firefox', 'Android'], ['Safari', 'iPhone']], 'only the short names are stored');
  for (const r of rows) t.notMatch(res.body, r.id, 'no session id appears in the page');
  t.notMatch(JSON.stringify(rows), /Mozilla|Gecko|AppleWebKit/, 'no trace of the raw User-Agent');
});

t.test('a signed-in resident sees an Account link in the header; a visitor does not, and /account asks them to log in', async (t) => {
  const { app } = await build(t);
  const { client } = await clientAs(app);
  t.match((await client.get('/account')).body, '<a class="account-link" href="/account">Account</a>');
  const anon = await app.inject({ url: '/account', headers: { accept: 'application/json' } });
  t.equal(anon.statusCode, 401);
  const login = await app.inject({ url: '/login' });
  t.notMatch(login.body, 'href="/account"');
});

t.test('ending one session from the list signs that browser out and closes its sockets; the others stay', async (t) => {
  const { app } = await build(t);
  const user = await createUser(app, { memberships: ['belval'] });
  const iphone = await browserOf(app, user, SAFARI_IPHONE);
  const windows = await browserOf(app, user, CHROME_WINDOWS);
  const phone = await browserOf(app, user, FIREFOX_ANDROID);
  const ws = await app.injectWS('/ws', { headers: { cookie: iphone.cookieHeader } });
  const wsClosed = closed(ws);
  const page = await phone.get('/account');
  const res = await phone.post('/account/sessions/end', { session: handleOf(page.body, 'Safari on iPhone') });
  t.equal(res.statusCode, 303);
  t.equal(res.headers.location, '/account?done=ended');
  t.equal(await wsClosed, 4001, 'its live updates are closed');
  t.notOk(await signedIn(iphone), 'the ended session no longer signs in');
  t.ok(await signedIn(windows), 'another session stays');
  t.ok(await signedIn(phone), 'this session stays');
  const after = await phone.get('/account?done=ended');
  t.match(after.body, 'That device is now logged out.');
  t.notMatch(after.body, 'Safari on iPhone');
});

t.test("a handle from another resident's list ends nothing", async (t) => {
  const { app } = await build(t);
  const victim = await createUser(app);
  const victimBrowser = await browserOf(app, victim, SAFARI_IPHONE);
  const handle = handleOf((await browserOf(app, victim, FIREFOX_ANDROID).then((c) => c.get('/account'))).body, 'Safari on iPhone');
  const { client: other } = await clientAs(app);
  const res = await other.post('/account/sessions/end', { session: handle });
  t.equal(res.statusCode, 303);
  t.equal(res.headers.location, '/account');
  t.ok(await signedIn(victimBrowser));
});

t.test('"log out everywhere else" ends every other session and closes their sockets, but not this one', async (t) => {
  const { app } = await build(t);
  const user = await createUser(app, { memberships: ['belval'] });
  const iphone = await browserOf(app, user, SAFARI_IPHONE);
  const windows = await browserOf(app, user, CHROME_WINDOWS);
  const phone = await browserOf(app, user, FIREFOX_ANDROID);
  const wsOther = await app.injectWS('/ws', { headers: { cookie: windows.cookieHeader } });
  const wsHere = await app.injectWS('/ws', { headers: { cookie: phone.cookieHeader } });
  t.teardown(() => wsHere.terminate());
  const otherClosed = closed(wsOther);
  let hereClosed = false;
  wsHere.once('close', () => (hereClosed = true));
  const res = await phone.post('/account/sessions/end-others');
  t.equal(res.statusCode, 303);
  t.equal(res.headers.location, '/account?done=others');
  t.equal(await otherClosed, 4001);
  t.notOk(await signedIn(iphone));
  t.notOk(await signedIn(windows));
  t.ok(await signedIn(phone), 'this session stays');
  await new Promise((r) => setTimeout(r, 50));
  t.notOk(hereClosed, "this session's socket stays open");
  const page = await phone.get('/account?done=others');
  t.match(page.body, 'You are now logged out everywhere else.');
  t.match(page.body, 'You are logged in only here.');
});

t.test('changing the password keeps this session, ends the others and closes their sockets; only the new password logs in', async (t) => {
  const { app } = await build(t);
  const user = await createUser(app, { memberships: ['belval'] });
  const iphone = await browserOf(app, user, SAFARI_IPHONE);
  const phone = await browserOf(app, user, FIREFOX_ANDROID);
  const token = phone.cookies.get(SESSION_COOKIE);
  const wsOther = await app.injectWS('/ws', { headers: { cookie: iphone.cookieHeader } });
  const otherClosed = closed(wsOther);
  const res = await phone.post('/account/password', { current_password: user.password, new_password: 'a new and long passphrase' });
  t.equal(res.statusCode, 303);
  t.equal(res.headers.location, '/account?done=password');
  t.equal(await otherClosed, 4001, "the other session's socket is closed");
  t.notOk(await signedIn(iphone), 'the other session ended');
  t.ok(await signedIn(phone), 'this session stays');
  t.equal(phone.cookies.get(SESSION_COOKIE), token, 'with the same cookie');
  t.match((await phone.get('/account?done=password')).body, 'Your password has been changed.');
  const fresh = new Client(app);
  await fresh.get('/login');
  t.equal((await fresh.post('/login', { email: user.email, password: user.password })).statusCode, 401, 'the old password no longer works');
  t.equal((await fresh.post('/login', { email: user.email, password: 'a new and long passphrase' })).statusCode, 303, 'the new one does');
});

t.test('a wrong current password changes nothing and ends no session', async (t) => {
  const { app } = await build(t);
  const user = await createUser(app);
  const iphone = await browserOf(app, user, SAFARI_IPHONE);
  const phone = await browserOf(app, user, FIREFOX_ANDROID);
  const res = await phone.post('/account/password', { current_password: 'not my password', new_password: 'a new and long passphrase' });
  t.equal(res.statusCode, 400);
  t.match(res.body, /id="password-error">The current password is wrong\./);
  t.match(res.body, /id="current_password"[^>]*aria-invalid="true"/);
  t.ok(await signedIn(iphone), 'the other session stays');
  const fresh = new Client(app);
  await fresh.get('/login');
  t.equal((await fresh.post('/login', { email: user.email, password: user.password })).statusCode, 303, 'the password is unchanged');
});

for (const [title, password, message] of [
  ['a common password', 'iloveyou1', 'This password is one of the most common ones'],
  ['a common password in capitals', 'PASSWORD123', 'This password is one of the most common ones'],
  ['a short password', 'short', 'The password needs at least 8 characters.'],
  ['an overlong password', 'x'.repeat(129), 'The password may have at most 128 characters.'],
] as const) {
  t.test(`the password change refuses ${title}`, async (t) => {
    const { app } = await build(t);
    const user = await createUser(app);
    const iphone = await browserOf(app, user, SAFARI_IPHONE);
    const phone = await browserOf(app, user, FIREFOX_ANDROID);
    const res = await phone.post('/account/password', { current_password: user.password, new_password: password });
    t.equal(res.statusCode, 400);
    t.match(res.body, message);
    t.match(res.body, /id="new_password"[^>]*aria-invalid="true"/);
    t.ok(await signedIn(iphone), 'no session ended');
  });
}

t.test('wrong current passwords are limited per account: the 11th within 15 minutes answers 429', async (t) => {
  const { app } = await build(t);
  const user = await createUser(app);
  const phone = await browserOf(app, user, FIREFOX_ANDROID);
  for (let i = 1; i <= 10; i++) {
    const res = await phone.post('/account/password', { current_password: `guess ${i}`, new_password: 'a new and long passphrase' });
    if (res.statusCode !== 400) t.fail(`attempt ${i} answered ${res.statusCode}`);
  }
  const res = await phone.post('/account/password', { current_password: user.password, new_password: 'a new and long passphrase' });
  t.equal(res.statusCode, 429);
  t.ok(res.headers['retry-after']);
});

t.test('the account forms need the CSRF token', async (t) => {
  const { app } = await build(t);
  const { client, user } = await clientAs(app);
  for (const [url, form] of [
    ['/account/password', { current_password: user.password, new_password: 'a new and long passphrase' }],
    ['/account/sessions/end-others', {}],
  ] as const) {
    const res = await client.post(url, { ...form, _csrf: 'forged' });
    t.equal(res.statusCode, 403, url);
  }
  t.ok(await signedIn(client));
});
