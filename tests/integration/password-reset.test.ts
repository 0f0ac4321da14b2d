// Forgotten password: a one-use, 30-minute link delivered by real SMTP, the same answer for unknown addresses, every session ended after the reset.
import t from 'tap';
import type { WebSocket } from 'ws';
import { SMTPServer } from 'smtp-server';
import { build, Client, createUser } from '../helpers/app.ts';
import { RESET_MAIL_JOB } from '../../server/core/auth/password-reset.routes.ts';

type T = Parameters<Parameters<typeof t.test>[0]>[0];
type App = Awaited<ReturnType<typeof build>>['app'];

const BASE_URL = 'http://noper.example.lu';
const NEW_PASSWORD = 'a fresh and long passphrase';

interface Received {
  to: string[];
  raw: string;
}

/** An SMTP server in this process; every message it receives lands in the returned list. */
async function smtp(t: T): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, cb) {
      let raw = '';
      stream.on('data', (c: Buffer) => (raw += c.toString()));
      stream.on('end', () => {
        received.push({ to: session.envelope.rcptTo.map((r) => r.address), raw });
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `smtp://127.0.0.1:${(server.server.address() as { port: number }).port}`, received };
}

/** The text of a message as a reader sees it (quoted-printable undone). */
function bodyText(raw: string): string {
  const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  const bytes = body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

function resetLink(raw: string): string {
  const m = /http:\/\/noper\.example\.lu(\/password\/reset\?token=[^\s]+)/.exec(bodyText(raw));
  if (!m) throw new Error(`no reset link in: ${bodyText(raw)}`);
  return m[1]!;
}

/** Noper sending through the in-process SMTP server. */
async function withMail(t: T) {
  const mail = await smtp(t);
  const built = await build(t, { env: { SMTP_URL: mail.url, BASE_URL } });
  return { ...built, received: mail.received };
}

/** Asks for a reset link from the form, as a visitor, and lets the job run. */
async function askForLink(app: App, email: string, headers: Record<string, string> = {}) {
  const client = new Client(app);
  await client.get('/password/forgot', headers);
  const res = await client.post('/password/forgot', { email }, headers);
  await app.jobs.runDue();
  return res;
}

async function loginStatus(app: App, email: string, password: string): Promise<number> {
  const client = new Client(app);
  await client.get('/login');
  return (await client.post('/login', { email, password })).statusCode;
}

t.test('the login page links to the form for a forgotten password, which carries its CSRF token', async (t) => {
  const { app } = await build(t);
  t.match((await app.inject({ url: '/login' })).body, '<a href="/password/forgot">Forgot your password?</a>');
  const page = await app.inject({ url: '/password/forgot' });
  t.equal(page.statusCode, 200);
  t.match(page.body, /<form method="post" action="\/password\/forgot"[\s\S]*name="_csrf" value="[^"]+"[\s\S]*name="email"/);
});

t.test('a reset link is e-mailed through SMTP, works, and afterwards only the new password logs in', async (t) => {
  const { app, received } = await withMail(t);
  const user = await createUser(app, { email: 'anouk@example.lu', name: 'Anouk Muller' });
  const res = await askForLink(app, 'Anouk@Example.lu');
  t.equal(res.statusCode, 303);
  t.equal(res.headers.location, '/password/forgot?sent=1');
  t.equal(received.length, 1, 'one e-mail delivered');
  t.same(received[0]!.to, ['anouk@example.lu']);
  t.match(received[0]!.raw, /Subject: Noper Noper: choose a new password/);
  t.match(bodyText(received[0]!.raw), 'Hello Anouk Muller');
  t.match(bodyText(received[0]!.raw), 'within 30 minutes');

  const link = resetLink(received[0]!.raw);
  t.match(link, /^\/password\/reset\?token=[a-z0-9]+\.[a-z0-9]+$/, 'the link carries id.secret');
  const stored = await app.db.selectFrom('password_resets').selectAll().where('user_id', '=', user.id).executeTakeFirstOrThrow();
  t.notMatch(link, stored.secret_hash, 'only a hash of the secret is stored');
  t.ok(stored.expires_at - stored.created_at === 30 * 60_000, 'the link lives 30 minutes');

  const browser = new Client(app);
  const form = await browser.get(link);
  t.equal(form.statusCode, 200);
  t.match(form.headers['cache-control'], 'no-store');
  t.equal(form.headers['referrer-policy'], 'no-referrer');
  t.match(form.body, /<input type="hidden" name="token" value="[^"]+">/);
  t.match(form.body, /name="_csrf" value="[^"]+"/);
  const token = decodeURIComponent(link.split('token=')[1]!);
  const done = await browser.post('/password/reset', { token, password: NEW_PASSWORD });
  t.equal(done.statusCode, 303);
  t.equal(done.headers.location, '/login?done=reset');
  const login = await browser.get('/login?done=reset');
  t.match(login.body, /<p class="notice" role="status">Your password has been changed/);

  t.equal(await loginStatus(app, user.email, user.password), 401, 'the old password no longer logs in');
  t.equal(await loginStatus(app, user.email, NEW_PASSWORD), 303, 'the new one does');
});

t.test('a reset link works once', async (t) => {
  const { app, received } = await withMail(t);
  const user = await createUser(app);
  await askForLink(app, user.email);
  const link = resetLink(received[0]!.raw);
  const token = decodeURIComponent(link.split('token=')[1]!);
  const browser = new Client(app);
  await browser.get(link);
  t.equal((await browser.post('/password/reset', { token, password: NEW_PASSWORD })).statusCode, 303);
  const again = await browser.get(link);
  t.equal(again.statusCode, 400);
  t.match(again.body, 'This link does not work');
  t.notMatch(again.body, 'name="token"');
  const replay = await browser.post('/password/reset', { token, password: 'yet another long passphrase' });
  t.equal(replay.statusCode, 400);
  t.equal(await loginStatus(app, user.email, NEW_PASSWORD), 303, 'the password set through the link stays');
});

t.test('an expired link is refused and changes nothing', async (t) => {
  const { app, received } = await withMail(t);
  const user = await createUser(app);
  await askForLink(app, user.email);
  const link = resetLink(received[0]!.raw);
  await app.db.updateTable('password_resets').set({ expires_at: Date.now() - 1 }).where('user_id', '=', user.id).execute();
  const browser = new Client(app);
  const page = await browser.get(link);
  t.equal(page.statusCode, 400);
  t.match(page.body, 'href="/password/forgot"', 'the page offers a new link');
  const post = await browser.post('/password/reset', { token: decodeURIComponent(link.split('token=')[1]!), password: NEW_PASSWORD });
  t.equal(post.statusCode, 400);
  t.equal(await loginStatus(app, user.email, user.password), 303, 'the password is unchanged');
});

t.test('a tampered or unknown token is refused like an expired one', async (t) => {
  const { app, received } = await withMail(t);
  const user = await createUser(app);
  await askForLink(app, user.email);
  const token = decodeURIComponent(resetLink(received[0]!.raw).split('token=')[1]!);
  const [id] = token.split('.');
  for (const bad of [`${id}.wrongsecretwrongsecretxx`, 'nothing.here', 'no-dot', '']) {
    const res = await app.inject({ url: `/password/reset?token=${encodeURIComponent(bad)}` });
    t.equal(res.statusCode, 400, JSON.stringify(bad));
  }
});

t.test('a newer link replaces the earlier one', async (t) => {
  const { app, received } = await withMail(t);
  const user = await createUser(app);
  await askForLink(app, user.email);
  await askForLink(app, user.email);
  t.equal(received.length, 2);
  const [first, second] = received.map((m) => resetLink(m.raw));
  t.equal((await app.inject({ url: first! })).statusCode, 400, 'the earlier link no longer works');
  t.equal((await app.inject({ url: second! })).statusCode, 200, 'the newest one does');
});

t.test('an unknown e-mail address gets exactly the same answer, and no e-mail is sent', async (t) => {
  const { app, received } = await withMail(t);
  await createUser(app, { email: 'known@example.lu' });
  const known = await askForLink(app, 'known@example.lu');
  const unknown = await askForLink(app, 'nobody@example.lu');
  t.equal(unknown.statusCode, known.statusCode);
  t.equal(unknown.headers.location, known.headers.location);
  t.equal(unknown.body, known.body);
  t.same(unknown.cookies.map((c) => c.name).sort(), known.cookies.map((c) => c.name).sort());
  t.equal(received.length, 1, 'only the registered address gets mail');
  const jobs = await app.db.selectFrom('jobs').select(['payload', 'done_at']).where('name', '=', RESET_MAIL_JOB).execute();
  t.equal(jobs.length, 2, 'both requests went through the job queue');
  t.ok(jobs.every((j) => j.done_at !== null));
  t.notMatch(JSON.stringify(jobs), /known@|nobody@/, 'no e-mail address is kept in the queue');
  const sent = await app.inject({ url: '/password/forgot?sent=1' });
  t.match(sent.body, 'If a Noper account exists for this e-mail address');
});

t.test("the e-mail is in the resident's language", async (t) => {
  const { app, received } = await withMail(t);
  await createUser(app, { email: 'marie@example.lu', name: 'Marie', lang: 'fr' });
  await askForLink(app, 'marie@example.lu', { 'accept-language': 'de' });
  t.match(received[0]!.raw, /Subject: Noper Noper : choisir un nouveau mot de passe/);
  t.match(bodyText(received[0]!.raw), 'Bonjour Marie');
  await createUser(app, { email: 'jos@example.lu', name: 'Jos' });
  await askForLink(app, 'jos@example.lu', { 'accept-language': 'lb' });
  t.match(bodyText(received[1]!.raw), 'Moien Jos', 'without a setting: the language of the request');
});

t.test('a reset ends every session of the account and closes their sockets', async (t) => {
  const { app, received } = await withMail(t);
  const user = await createUser(app, { memberships: ['belval'] });
  const a = new Client(app);
  await a.login(user.email, user.password);
  const b = new Client(app);
  await b.login(user.email, user.password);
  const ws: WebSocket = await app.injectWS('/ws', { headers: { cookie: a.cookieHeader } });
  const closed = new Promise<number>((r) => ws.once('close', (code: number) => r(code)));
  await askForLink(app, user.email);
  const token = decodeURIComponent(resetLink(received[0]!.raw).split('token=')[1]!);
  // Reset from one of the signed-in browsers: its own session ends too.
  await b.get('/password/reset?token=' + encodeURIComponent(token));
  const res = await b.post('/password/reset', { token, password: NEW_PASSWORD });
  t.equal(res.statusCode, 303);
  t.equal(await closed, 4001);
  t.equal((await app.db.selectFrom('sessions').select('id').where('user_id', '=', user.id).execute()).length, 0, 'no session is left');
  for (const c of [a, b]) t.equal((await app.inject({ url: '/account', headers: { cookie: c.cookieHeader, accept: 'application/json' } })).statusCode, 401);
});

t.test('the reset refuses a common or short password and the link stays usable', async (t) => {
  const { app, received } = await withMail(t);
  const user = await createUser(app);
  await askForLink(app, user.email);
  const link = resetLink(received[0]!.raw);
  const token = decodeURIComponent(link.split('token=')[1]!);
  const browser = new Client(app);
  await browser.get(link);
  const common = await browser.post('/password/reset', { token, password: 'Password123' });
  t.equal(common.statusCode, 400);
  t.match(common.body, 'This password is one of the most common ones');
  t.match(common.body, /name="token" value="[^"]+"/, 'the form is shown again with the link');
  const short = await browser.post('/password/reset', { token, password: 'short' });
  t.equal(short.statusCode, 400);
  t.match(short.body, 'at least 8 characters');
  t.equal(await loginStatus(app, user.email, user.password), 303, 'the password is unchanged');
  t.equal((await browser.post('/password/reset', { token, password: NEW_PASSWORD })).statusCode, 303, 'the link still works');
});

t.test('a disabled account gets no link', async (t) => {
  const { app, received } = await withMail(t);
  const user = await createUser(app);
  await app.db.updateTable('users').set({ disabled_at: Date.now() }).where('id', '=', user.id).execute();
  const res = await askForLink(app, user.email);
  t.equal(res.statusCode, 303);
  t.equal(received.length, 0);
});

t.test('the forgot form needs a well-formed address and the CSRF token', async (t) => {
  const { app } = await build(t);
  const client = new Client(app);
  await client.get('/password/forgot');
  const bad = await client.post('/password/forgot', { email: 'not an address' });
  t.equal(bad.statusCode, 400);
  t.match(bad.body, 'This e-mail address does not look right.');
  const forged = await client.post('/password/forgot', { email: 'a@example.lu', _csrf: 'forged' });
  t.equal(forged.statusCode, 403);
});
