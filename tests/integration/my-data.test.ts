// My data: the export (a zip holding my-data.json and a README in my language, no secrets) and the erasure of an account.
import t from 'tap';
import { build, Client, createUser } from '../helpers/app.ts';
import { insertAddress } from '../helpers/addresses.ts';
import { resident, residentClient } from '../helpers/members.ts';
import { readZip } from '../helpers/zip.ts';
import { SESSION_COOKIE } from '../../server/infra/session.ts';
import { FORMER_NEIGHBOUR } from '../../server/core/members/public-name.ts';
import { communeDay } from '../../server/core/members/my-data.routes.ts';
import { newId } from '../../server/ids.ts';

type T = Parameters<Parameters<typeof t.test>[0]>[0];
type App = Awaited<ReturnType<typeof build>>['app'];

const PASSWORD = 'correct horse battery';

async function setup(t: T, lang: string | null = null) {
  const { app } = await build(t);
  await createUser(app, { role: 'admin', email: 'admin@example.lu' });
  const { client, user } = await residentClient(app, {
    name: 'Anouk Thill',
    email: 'anouk@example.lu',
    number: '237B',
    lang,
    profile: { languages: ['lb', 'pt'], can_help: 'Bike repairs', new_since: '2024-03', intro: 'Hello neighbours', listed: true },
  });
  return { app, client, user };
}

async function tableExists(app: App, name: string): Promise<boolean> {
  return (await app.db.introspection.getTables()).some((x) => x.name === name);
}

async function exportOf(client: Client) {
  await client.get('/account/data');
  const res = await client.post('/account/data/export');
  return { res, files: res.statusCode === 200 ? readZip(res.rawPayload) : [] };
}

t.test('the my-data page: the export form and the deletion form asking for the password, with CSRF tokens, no inline style or script', async (t) => {
  const { client } = await setup(t);
  const res = await client.get('/account/data');
  t.equal(res.statusCode, 200);
  t.match(res.body, '<h1>My data</h1>');
  t.match(res.body, /<form method="post" action="\/account\/data\/export"[^>]*>\s*<input type="hidden" name="_csrf" value="[^"]+">/);
  t.match(res.body, /<form method="post" action="\/account\/data\/delete"[^>]*>\s*<input type="hidden" name="_csrf" value="[^"]+">/);
  t.match(res.body, /<input id="password" name="password" type="password" autocomplete="current-password" required/);
  t.notMatch(res.body, /<script(?![^>]*src=)/);
  t.notMatch(res.body, /\sstyle=/);
  t.notMatch(res.body, /\son[a-z]+=/);
});

t.test('anonymous visitors get neither the page nor an export', async (t) => {
  const { app } = await build(t);
  const anon = new Client(app);
  t.equal((await anon.get('/account/data')).statusCode, 401);
  const res = await anon.post('/account/data/export');
  t.equal(res.statusCode, 401);
  t.notMatch(String(res.headers['content-type']), 'zip');
});

t.test('the export is a zip download named by the date, holding my-data.json with every section and a README', async (t) => {
  const { app, client, user } = await setup(t);
  const other = await resident(app, { name: 'Boris Voucher', email: 'boris@example.lu', number: '3' });
  const waiting = await resident(app, { name: 'Carla Waiting', email: 'carla@example.lu', number: '5', verified: false });
  const belval = (await app.db.selectFrom('neighborhoods').select('id').where('slug', '=', 'belval').executeTakeFirstOrThrow()).id;
  const hasVouches = await tableExists(app, 'vouches');
  if (hasVouches) {
    const db = app.db as unknown as import('kysely').Kysely<any>;
    await db.insertInto('vouches').values({ user_id: user.id, neighborhood_id: belval, voucher_id: other.id, created_at: Date.now() }).execute();
    await db.insertInto('vouches').values({ user_id: waiting.id, neighborhood_id: belval, voucher_id: user.id, created_at: Date.now() }).execute();
  }
  await app.db.insertInto('audit_log').values({ id: newId(), at: Date.now(), actor_id: user.id, action: 'test.mine', subject: null, detail: '{"k":1}' }).execute();
  await app.db.insertInto('audit_log').values({ id: newId(), at: Date.now(), actor_id: other.id, action: 'test.aboutMe', subject: user.id, detail: null }).execute();
  await app.db.insertInto('audit_log').values({ id: newId(), at: Date.now(), actor_id: other.id, action: 'test.notMine', subject: other.id, detail: null }).execute();

  const { res, files } = await exportOf(client);
  t.equal(res.statusCode, 200);
  t.equal(res.headers['content-type'], 'application/zip');
  t.equal(res.headers['content-disposition'], `attachment; filename="noper-my-data-${communeDay('Europe/Luxembourg')}.zip"`);
  t.equal(res.headers['cache-control'], 'no-store');
  t.same(files.map((f) => f.name).sort(), ['README.txt', 'my-data.json']);

  const data = JSON.parse(files.find((f) => f.name === 'my-data.json')!.data.toString('utf8'));
  t.equal(data.format, 'noper-my-data');
  t.equal(data.account.id, user.id);
  t.equal(data.account.email, 'anouk@example.lu');
  t.equal(data.account.name, 'Anouk Thill');
  t.notOk('password_hash' in data.account, 'no password hash');
  t.match(data.account.created_at, /^\d{4}-\d\d-\d\dT/, 'times as ISO 8601');
  t.equal(data.address.street, "Rue de l'Alzette");
  t.equal(data.address.number, '237B');
  t.equal(data.memberships.length, 1);
  t.equal(data.memberships[0].neighborhood_slug, 'belval');
  t.ok(data.memberships[0].verified_at, 'how and when verified');
  t.ok('verified_by' in data.memberships[0]);
  t.equal(data.sessions.length, 1);
  t.equal(data.sessions[0].current, true);
  t.notOk('id' in data.sessions[0], 'no session id (half of the cookie)');
  t.notOk('secret_hash' in data.sessions[0], 'no secret hash');
  t.ok(data.sessions[0].created_at && data.sessions[0].last_seen_at);
  t.same(data.profile.languages, ['lb', 'pt']);
  t.equal(data.profile.can_help, 'Bike repairs');
  t.equal(data.profile.new_since, '2024-03');
  t.ok(data.profile.directory_at);
  if (hasVouches) {
    t.equal(data.vouches.received.length, 1, 'the vouch I got');
    t.equal(data.vouches.received[0].voucher_id, other.id);
    t.equal(data.vouches.given.length, 1, 'the vouch I gave');
    t.equal(data.vouches.given[0].user_id, waiting.id);
  } else {
    t.notOk('vouches' in data, 'no vouches section without the table');
  }
  t.same(data.audit_log.map((a: { action: string }) => a.action).filter((a: string) => a.startsWith('test.')).sort(), ['test.aboutMe', 'test.mine']);
  t.same(data.audit_log.find((a: { action: string }) => a.action === 'test.mine').detail, { k: 1 }, 'details as JSON');

  // No secret anywhere in the file, whatever its key.
  const raw = files.find((f) => f.name === 'my-data.json')!.data.toString('utf8');
  const stored = await app.db.selectFrom('users').select('password_hash').where('id', '=', user.id).executeTakeFirstOrThrow();
  const sessions = await app.db.selectFrom('sessions').select(['id', 'secret_hash']).where('user_id', '=', user.id).execute();
  t.notMatch(raw, stored.password_hash);
  t.notMatch(raw, '$argon2');
  for (const s of sessions) {
    t.notMatch(raw, s.secret_hash);
    t.notMatch(raw, s.id);
  }
  const token = client.cookies.get(SESSION_COOKIE)!;
  t.notMatch(raw, token.split('.')[1]!, 'not the secret half of the cookie');
  t.notMatch(raw, 'Boris', "nothing of the other neighbours' accounts");

  const readme = files.find((f) => f.name === 'README.txt')!.data.toString('utf8');
  t.match(readme, 'Noper – your data');
  t.match(readme, 'my-data.json');
  t.match(readme, 'audit_log');
});

t.test('other records linked to me (a password reset request) are exported without their secrets', { skip: false }, async (t) => {
  const { app, client, user } = await setup(t);
  if (!(await tableExists(app, 'password_resets'))) {
    t.pass('no password_resets table in this tree');
    return;
  }
  const db = app.db as unknown as import('kysely').Kysely<any>;
  const now = Date.now();
  await db.insertInto('password_resets').values({ id: 'reset-1', secret_hash: 'deadbeefcafe0123', user_id: user.id, created_at: now, expires_at: now + 60_000, used_at: null }).execute();
  const { files } = await exportOf(client);
  const raw = files.find((f) => f.name === 'my-data.json')!.data.toString('utf8');
  const data = JSON.parse(raw);
  t.equal(data.other.password_resets.length, 1);
  t.ok(data.other.password_resets[0].expires_at);
  t.notMatch(raw, 'deadbeefcafe0123');
});

t.test("the README speaks the resident's language", async (t) => {
  const { client } = await setup(t, 'lb');
  const { files } = await exportOf(client);
  const readme = files.find((f) => f.name === 'README.txt')!.data.toString('utf8');
  t.match(readme, 'Noper – Är Donnéeën');
  t.match(readme, '\r\n', 'line ends for every editor');
});

t.test('deletion with a wrong or missing password is refused and changes nothing', async (t) => {
  const { app, client, user } = await setup(t);
  await client.get('/account/data');
  const wrong = await client.post('/account/data/delete', { password: 'not my password' });
  t.equal(wrong.statusCode, 400);
  t.match(wrong.body, 'The password is not right. Your account was not deleted.');
  t.match(wrong.body, /id="password"[^>]*aria-invalid="true"/);
  const missing = await client.post('/account/data/delete', {});
  t.equal(missing.statusCode, 400);
  const row = await app.db.selectFrom('users').selectAll().where('id', '=', user.id).executeTakeFirstOrThrow();
  t.equal(row.email, 'anouk@example.lu');
  t.equal(row.deleted_at, null);
  t.equal((await client.get('/n/belval')).statusCode, 200, 'still signed in and a member');
});

t.test('deletion without the CSRF token is refused', async (t) => {
  const { app, user, client } = await setup(t);
  const res = await client.request({
    method: 'POST',
    url: '/account/data/delete',
    payload: `password=${encodeURIComponent(PASSWORD)}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  t.equal(res.statusCode, 403);
  t.equal((await app.db.selectFrom('users').select('deleted_at').where('id', '=', user.id).executeTakeFirstOrThrow()).deleted_at, null);
});

t.test('deletion erases the personal data, ends every session and socket, and frees the e-mail address', async (t) => {
  const { app, client, user } = await setup(t);
  // A second device of the same resident, with a live socket each.
  const phone = new Client(app);
  await phone.login('anouk@example.lu', PASSWORD);
  const sockets = [await app.injectWS('/ws', { headers: { cookie: client.cookieHeader } }), await app.injectWS('/ws', { headers: { cookie: phone.cookieHeader } })];
  const closed = sockets.map((ws) => new Promise<number>((r) => ws.once('close', (code: number) => r(code))));
  const before = await app.db.selectFrom('users').selectAll().where('id', '=', user.id).executeTakeFirstOrThrow();

  await client.get('/account/data');
  const res = await client.post('/account/data/delete', { password: PASSWORD });
  t.equal(res.statusCode, 303);
  t.equal(res.headers.location, '/account/data/deleted');
  t.notOk(client.cookies.has(SESSION_COOKIE), 'the session cookie is cleared');
  t.same(await Promise.all(closed), [4001, 4001], 'both sockets closed');

  const page = await client.get('/account/data/deleted');
  t.equal(page.statusCode, 200);
  t.match(page.body, 'Your account is deleted');

  // The row stays (later content keeps its author) but holds nothing personal.
  const row = await app.db.selectFrom('users').selectAll().where('id', '=', user.id).executeTakeFirstOrThrow();
  t.equal(row.name, FORMER_NEIGHBOUR);
  t.not(row.email, 'anouk@example.lu');
  t.notMatch(row.email, '@', 'no address at all: nothing can be sent to it');
  t.not(row.password_hash, before.password_hash);
  t.equal(row.address_id, null);
  t.equal(row.lang, null);
  t.ok(row.deleted_at);
  for (const [key, value] of Object.entries(row)) {
    for (const personal of ['Anouk', 'Thill', 'anouk@example.lu', before.address_id!, before.password_hash]) {
      t.notMatch(String(value), personal, `users.${key} holds no "${personal.slice(0, 20)}"`);
    }
  }
  t.equal((await app.db.selectFrom('profiles').select('user_id').where('user_id', '=', user.id).execute()).length, 0, 'profile gone');
  t.equal((await app.db.selectFrom('memberships').select('user_id').where('user_id', '=', user.id).execute()).length, 0, 'memberships gone');
  t.equal((await app.db.selectFrom('sessions').select('id').where('user_id', '=', user.id).execute()).length, 0, 'sessions gone');
  t.ok(await app.db.selectFrom('audit_log').select('id').where('actor_id', '=', user.id).where('action', '=', 'account.erased').executeTakeFirst(), 'the erasure is logged');

  // Neither device is signed in any more, and the account can never log in again.
  t.equal((await phone.get('/account/data')).statusCode, 401);
  t.equal((await client.get('/n/belval')).statusCode, 401);
  const again = new Client(app);
  await again.get('/login');
  const login = await again.post('/login', { email: 'anouk@example.lu', password: PASSWORD });
  t.equal(login.statusCode, 401);
  const byMarker = await again.post('/login', { email: row.email, password: PASSWORD });
  t.equal(byMarker.statusCode, 401);

  // The e-mail address is free: a new registration with it creates a new account.
  const address = await insertAddress(app, { street: 'Rue Neuve', number: '9', neighborhood: 'belval' });
  const newcomer = new Client(app);
  await newcomer.get('/register');
  const reg = await newcomer.post('/register', { name: 'Anouk Thill', email: 'anouk@example.lu', password: PASSWORD, address_id: address.id });
  t.equal(reg.statusCode, 303);
  const fresh = await app.db.selectFrom('users').selectAll().where('email', '=', 'anouk@example.lu').executeTakeFirstOrThrow();
  t.not(fresh.id, user.id, 'a new account');
  t.equal(fresh.deleted_at, null);
  const login2 = new Client(app);
  await login2.login('anouk@example.lu', PASSWORD);
  t.ok(login2.cookies.has(SESSION_COOKIE));
});

t.test('the former neighbour leaves the directory', async (t) => {
  const { app, client } = await setup(t);
  const { client: viewer } = await residentClient(app, { name: 'Viewer Person', email: 'viewer@example.lu' });
  t.match((await viewer.get('/n/belval/neighbours')).body, 'Anouk T.');
  await client.get('/account/data');
  await client.post('/account/data/delete', { password: PASSWORD });
  const res = await viewer.get('/n/belval/neighbours');
  t.notMatch(res.body, 'Anouk');
  t.notMatch(res.body, 'Bike repairs');
});
