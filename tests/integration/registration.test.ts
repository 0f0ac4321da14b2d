// Registration at an address, the letter code, the status page of a resident waiting for verification, and the board page.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { build, Client, clientAs, createUser, ensureNeighborhood } from '../helpers/app.ts';
import { insertAddress } from '../helpers/addresses.ts';
import { SESSION_COOKIE } from '../../server/infra/session.ts';
import { issueCodes } from '../../server/core/verification/letter-codes.service.ts';
import { ATTEMPT_MAIL_JOB } from '../../server/core/auth/registration.routes.ts';
import { verifyPassword } from '../../server/core/auth/passwords.ts';
import { setSetting } from '../../server/core/settings/settings.repository.ts';

type T = Parameters<Parameters<typeof t.test>[0]>[0];
type App = Awaited<ReturnType<typeof build>>['app'];

const PASSWORD = 'correct horse battery';

/** Esch with two neighbourhoods and letters issued for Belval; an admin exists, so / is not the first-run page. */
async function commune(t: T) {
  const built = await build(t);
  const { app } = built;
  await createUser(app, { role: 'admin', email: 'admin@example.lu' });
  const home = await insertAddress(app, { street: "Rue de l'Église", number: '12', neighborhood: 'belval' });
  const neighbour = await insertAddress(app, { street: "Rue de l'Église", number: '14', neighborhood: 'belval' });
  const far = await insertAddress(app, { street: 'Rue de Lallange', number: '3', postcode: '4220', neighborhood: 'lallange' });
  const unassigned = await insertAddress(app, { street: 'Rue Nouvelle', number: '1', neighborhood: null });
  const retired = await insertAddress(app, { street: 'Rue Disparue', number: '1', neighborhood: 'belval', retired: true });
  const belval = await ensureNeighborhood(app, 'belval');
  const lallange = await ensureNeighborhood(app, 'lallange');
  await app.db.updateTable('neighborhoods').set({ name: 'Belval' }).where('id', '=', belval).execute();
  await app.db.updateTable('neighborhoods').set({ name: 'Lallange' }).where('id', '=', lallange).execute();
  const letters = await issueCodes(app.db, { neighborhoodId: belval });
  const codeOf = (id: string) => letters.find((l) => l.address.id === id)!.code;
  return { ...built, home, neighbour, far, unassigned, retired, belval, lallange, codeOf };
}

/** A visitor on the registration page (holding its CSRF token), and the form's POST. */
async function visitor(app: App) {
  const client = new Client(app);
  const page = await client.get('/register');
  if (page.statusCode !== 200) throw new Error(`register page: ${page.statusCode}`);
  return client;
}

/** Registers through the form, then (as the page after it asks) logs in with the same e-mail and password. */
async function registerIn(client: Client, fields: Record<string, string>) {
  const res = await client.post('/register', fields);
  if (res.statusCode === 303) await client.login(fields.email!.trim(), fields.password!);
  return res;
}

function form(addressId: string, extra: Record<string, string> = {}) {
  return { name: 'Anouk Muller', email: 'anouk@example.lu', password: PASSWORD, address_id: addressId, ...extra };
}

async function membershipsOf(app: App, email: string) {
  const user = await app.db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirstOrThrow();
  const memberships = await app.db.selectFrom('memberships').selectAll().where('user_id', '=', user.id).execute();
  return { user, memberships };
}

t.test('the registration page: the form with its CSRF token, the address search for htmx and without JavaScript', async (t) => {
  const { app } = await commune(t);
  const res = await app.inject({ url: '/register' });
  t.equal(res.statusCode, 200);
  t.match(res.body, '<h1>Register</h1>');
  t.match(res.body, /<form method="post" action="\/register"/);
  t.match(res.body, /name="_csrf" value="[^"]+"/);
  for (const field of ['name', 'email', 'password', 'code']) t.match(res.body, `name="${field}"`, `field ${field}`);
  t.match(res.body, /<form method="get" action="\/register"/, 'a plain search form for browsers without JavaScript');
  t.match(res.body, /<input id="q" name="q" type="search"[^>]*hx-get="\/addresses" hx-trigger="input changed delay:300ms"/, 'as-you-type with htmx');
  t.match(res.body, 'Type at least 2 characters');
  t.notMatch(res.body, /<script(?![^>]*src=)/, 'no inline script');
  t.notMatch(res.body, /\sstyle=/, 'no style attributes');
  t.notMatch(res.body, /\son[a-z]+=/, 'no inline event handlers');
});

t.test('without JavaScript, GET /register?q= lists the addresses as radio buttons inside the registration form', async (t) => {
  const { app, home, neighbour } = await commune(t);
  const res = await app.inject({ url: `/register?q=${encodeURIComponent("rue de l'eglise")}` });
  t.equal(res.statusCode, 200);
  t.match(res.body, `value="rue de l&#x27;eglise"`, 'the query stays in the search field');
  const post = res.body.slice(res.body.indexOf('action="/register" class="stack"'));
  for (const a of [home, neighbour]) t.match(post, `<input type="radio" name="address_id" value="${a.id}" data-address-id="${a.id}"`);
  t.notMatch(res.body, 'Rue Disparue');
});

t.test('the page speaks the four languages', async (t) => {
  const { app } = await commune(t);
  const titles = { lb: 'Aschreiwen', fr: 'Inscription', de: 'Registrieren', en: 'Register' };
  for (const [lang, title] of Object.entries(titles)) {
    const res = await app.inject({ url: `/register?lang=${lang}` });
    t.match(res.body, `<html lang="${lang}">`);
    t.match(res.body, `<h1>${title}</h1>`);
  }
});

t.test('registering with the letter code: 303 to the login page, then / leads to the board of Belval, Lallange stays closed', async (t) => {
  const { app, home, codeOf, belval } = await commune(t);
  const client = await visitor(app);
  const res = await registerIn(client, form(home.id, { code: codeOf(home.id).toLowerCase().replaceAll('-', ' ') }));
  t.equal(res.statusCode, 303);
  t.equal(res.headers.location, '/login?done=registered');
  t.notOk(res.cookies.some((c) => c.name === SESSION_COOKIE && c.value), 'no session from the registration itself (it would tell new e-mails from known ones)');

  const { user, memberships } = await membershipsOf(app, 'anouk@example.lu');
  t.equal(user.address_id, home.id);
  t.equal(user.role, 'resident');
  t.ok(await verifyPassword(user.password_hash, PASSWORD), 'argon2 hash of the password');
  t.equal(memberships.length, 1);
  t.equal(memberships[0]!.neighborhood_id, belval);
  t.ok(memberships[0]!.verified_at, 'verified');
  t.equal(memberships[0]!.verified_by, 'letter');

  const start = await client.get('/');
  t.equal(start.statusCode, 303);
  t.equal(start.headers.location, '/n/belval');
  const board = await client.get('/n/belval');
  t.equal(board.statusCode, 200);
  t.match(board.body, '<h1>Belval</h1>');
  t.match(board.body, '1 member with a verified address');
  t.match(board.body, 'No posts yet — the board opens soon.');
  t.match(board.body, 'action="/logout"', 'in the layout');
  const other = await client.get('/n/lallange');
  t.equal(other.statusCode, 404);
  t.notMatch(other.body, 'Lallange', "nothing of the other neighbourhood (its URL aside)");
  const code = await app.db.selectFrom('letter_codes').select('uses').where('address_id', '=', home.id).where('revoked_at', 'is', null).executeTakeFirstOrThrow();
  t.equal(code.uses, 1, 'one use of the household code spent');
});

t.test('the board counts the verified members of its neighbourhood only', async (t) => {
  const { app, home, codeOf } = await commune(t);
  await createUser(app, { memberships: ['belval'] });
  await createUser(app, { memberships: [{ slug: 'belval', verified: false }] });
  await createUser(app, { memberships: ['lallange'] });
  const client = await visitor(app);
  await registerIn(client, form(home.id, { code: codeOf(home.id) }));
  const board = await client.get('/n/belval');
  t.match(board.body, '2 members with a verified address');
});

t.test('with a wrong code the registration succeeds unverified: the status page says the code was not accepted, the board stays closed', async (t) => {
  const { app, home, neighbour, codeOf } = await commune(t);
  const client = await visitor(app);
  const res = await registerIn(client, form(home.id, { code: codeOf(neighbour.id) }));
  t.equal(res.statusCode, 303);
  t.equal(res.headers.location, '/login?done=registered');
  const { memberships } = await membershipsOf(app, 'anouk@example.lu');
  t.equal(memberships.length, 1);
  t.equal(memberships[0]!.verified_at, null);

  const status = await client.get('/');
  t.equal(status.statusCode, 200);
  t.match(status.body, 'Your address is being verified');
  t.match(status.body, "12, Rue de l&#x27;Église, L-4131 Esch-sur-Alzette");
  t.match(status.body, 'The code you entered was not accepted.');
  t.notMatch(status.body, /expired|another address|used up/i, 'and not why');
  t.notMatch(status.body, 'Belval', 'nothing of the neighbourhood');
  t.match(status.body, /<form method="post" action="\/verify\/code"/);
  t.match(status.body, 'With 2 neighbours');
  t.match(status.body, "At the commune&#x27;s counter");
  t.equal((await client.get('/n/belval')).statusCode, 404);
  const code = await app.db.selectFrom('letter_codes').select('uses').where('address_id', '=', neighbour.id).where('revoked_at', 'is', null).executeTakeFirstOrThrow();
  t.equal(code.uses, 0, "the neighbour's code was not spent");
});

t.test('without a code the resident waits; the code entered later on the status page verifies and opens the board', async (t) => {
  const { app, home, codeOf } = await commune(t);
  const client = await visitor(app);
  const res = await registerIn(client, form(home.id));
  t.equal(res.statusCode, 303);
  const status = await client.get('/');
  t.equal(status.statusCode, 200);
  t.match(status.body, 'Your address is being verified');
  t.notMatch(status.body, 'not accepted');
  t.equal((await client.get('/n/belval')).statusCode, 404, 'no board while waiting');

  const wrong = await client.post('/verify/code', { code: 'ABCD-EFGH-JKMN' });
  t.equal(wrong.statusCode, 303);
  t.equal(wrong.headers.location, '/');
  t.match((await client.get('/')).body, 'The code you entered was not accepted.');

  const right = await client.post('/verify/code', { code: codeOf(home.id) });
  t.equal(right.statusCode, 303);
  t.equal(right.headers.location, '/');
  const start = await client.get('/');
  t.equal(start.statusCode, 303);
  t.equal(start.headers.location, '/n/belval');
  t.equal((await client.get('/n/belval')).statusCode, 200);
  const { memberships } = await membershipsOf(app, 'anouk@example.lu');
  t.equal(memberships[0]!.verified_by, 'letter');
});

t.test('ten wrong codes in a day pause code entry for the account, even for the right code', async (t) => {
  const { app, home, codeOf } = await commune(t);
  const client = await visitor(app);
  await registerIn(client, form(home.id, { code: 'WRNG-CODE-2345' }));
  // Nine more wrong codes from elsewhere (the per-IP limit is not what should stop them).
  const { user } = await membershipsOf(app, 'anouk@example.lu');
  for (let i = 0; i < 9; i++) {
    await app.db.insertInto('audit_log').values({ id: `x${i}`, at: Date.now(), actor_id: user.id, action: 'letter_code.rejected', subject: home.id, detail: null }).execute();
  }
  const status = await client.get('/');
  t.match(status.body, 'Too many codes were entered today.');
  const res = await client.post('/verify/code', { code: codeOf(home.id) });
  t.equal(res.statusCode, 303);
  const { memberships } = await membershipsOf(app, 'anouk@example.lu');
  t.equal(memberships[0]!.verified_at, null, 'not verified while paused');
});

t.test('an address in no neighbourhood yet: registered without membership; the status page says the commune will assign it', async (t) => {
  const { app, unassigned } = await commune(t);
  const client = await visitor(app);
  const res = await registerIn(client, form(unassigned.id));
  t.equal(res.statusCode, 303);
  const { user, memberships } = await membershipsOf(app, 'anouk@example.lu');
  t.equal(user.address_id, unassigned.id);
  t.equal(memberships.length, 0);
  const status = await client.get('/');
  t.match(status.body, 'The commune will assign it');
  t.notMatch(status.body, 'action="/verify/code"');
});

t.test('an e-mail address already registered gets the same answer, creates nothing and tells its owner by e-mail', async (t) => {
  const { app, home, far, env } = await commune(t);
  const owner = await createUser(app, { email: 'known@example.lu', name: 'Known Person', password: 'the owner password' });

  const fresh = await visitor(app);
  const created = await fresh.post('/register', form(home.id, { email: 'new@example.lu' }));
  const again = await visitor(app);
  const duplicate = await again.post('/register', form(far.id, { email: ' Known@Example.LU ' }));

  t.equal(duplicate.statusCode, created.statusCode, 'same status');
  t.equal(duplicate.headers.location, created.headers.location, 'same destination');
  t.same(duplicate.cookies.map((c) => c.name).sort(), created.cookies.map((c) => c.name).sort(), 'the same cookies: no session for either');
  t.equal(duplicate.body, created.body, 'same body');
  const users = await app.db.selectFrom('users').selectAll().where('email', '=', 'known@example.lu').execute();
  t.equal(users.length, 1, 'no second account');
  t.equal(users[0]!.id, owner.id);
  t.ok(await verifyPassword(users[0]!.password_hash, 'the owner password'), 'the password is unchanged');
  t.equal(users[0]!.address_id, null, 'the address is unchanged');
  t.equal((await app.db.selectFrom('memberships').selectAll().where('user_id', '=', owner.id).execute()).length, 0, 'no membership added');

  const jobs = await app.db.selectFrom('jobs').selectAll().where('name', '=', ATTEMPT_MAIL_JOB).execute();
  t.equal(jobs.length, 1, 'one e-mail to the owner is queued');
  const third = await visitor(app);
  await third.post('/register', form(far.id, { email: 'known@example.lu' }));
  t.equal((await app.db.selectFrom('jobs').selectAll().where('name', '=', ATTEMPT_MAIL_JOB).execute()).length, 1, 'at most one a day');

  t.ok((await app.jobs.runDue()) >= 1);
  const outbox = path.join(env.dataDir, 'outbox');
  const mails = fs.readdirSync(outbox).map((f) => fs.readFileSync(path.join(outbox, f), 'utf8'));
  t.equal(mails.length, 1);
  t.match(mails[0], /^To: known@example\.lu$/m);
  t.match(mails[0], 'someone tried to register with your e-mail address');
  t.match(mails[0], 'nothing was created and your account is unchanged');
  t.notMatch(mails[0], PASSWORD, 'the password typed is not in it');
});

t.test('extra fields role, neighborhood_id and verified are ignored (no mass assignment)', async (t) => {
  const { app, home, lallange } = await commune(t);
  const client = await visitor(app);
  const res = await registerIn(client, {
    ...form(home.id),
    role: 'admin',
    neighborhood_id: lallange,
    verified: 'true',
    verified_at: String(Date.now()),
    verified_by: 'counter',
    id: 'chosen-id',
  });
  t.equal(res.statusCode, 303);
  const { user, memberships } = await membershipsOf(app, 'anouk@example.lu');
  t.equal(user.role, 'resident');
  t.not(user.id, 'chosen-id');
  t.equal(memberships.length, 1);
  t.not(memberships[0]!.neighborhood_id, lallange, 'the neighbourhood comes from the address');
  t.equal(memberships[0]!.verified_at, null);
  t.equal(memberships[0]!.verified_by, null);
  t.equal((await client.get('/admin/plugins')).statusCode, 403);
  t.equal((await client.get('/n/lallange')).statusCode, 404);
});

t.test('refused fields come back with translated messages tied to them, everything typed kept except the password', async (t) => {
  const { app, home } = await commune(t);
  const client = await visitor(app);
  const longName = 'N'.repeat(81);
  const res = await client.post('/register', { name: longName, email: 'not-an-email', password: 'short', address_id: home.id, code: 'ABCD-EFGH' });
  t.equal(res.statusCode, 400);
  t.match(res.body, 'Please correct the marked fields.');
  t.match(res.body, `value="${longName}"`, 'name kept');
  t.match(res.body, 'value="not-an-email"', 'e-mail kept');
  t.match(res.body, 'value="ABCD-EFGH"', 'code kept');
  t.notMatch(res.body, 'value="short"', 'the password is not sent back');
  t.match(res.body, /<p class="field-error" id="name-error">The name may have at most 80 characters\.<\/p>/);
  t.match(res.body, /id="name"[^>]*aria-describedby="name-hint name-error" aria-invalid="true"/);
  t.match(res.body, /id="email-error">This e-mail address does not look right\./);
  t.match(res.body, /id="email"[^>]*aria-describedby="email-error" aria-invalid="true"/);
  t.match(res.body, /id="password-error">The password needs at least 8 characters\./);
  t.match(res.body, /id="password"[^>]*aria-describedby="password-hint password-error" aria-invalid="true"/);
  t.match(res.body, `<input type="radio" name="address_id" value="${home.id}" data-address-id="${home.id}" required checked>`, 'the address picked stays picked');
  t.equal((await app.db.selectFrom('users').selectAll().where('email', '=', 'not-an-email').execute()).length, 0);
});

t.test('a common password, a missing, unknown or retired address are refused', async (t) => {
  const { app, home, retired } = await commune(t);
  const client = await visitor(app);
  const common = await registerIn(client, form(home.id, { password: 'Password123' }));
  t.equal(common.statusCode, 400);
  t.match(common.body, /id="password-error">This password is one of the most common ones/);
  for (const [addressId, message] of [
    ['', 'Please search for your address and choose it from the list.'],
    ['no-such-address', "This address is not in the commune&#x27;s register."],
    [retired.id, "This address is not in the commune&#x27;s register."],
  ] as const) {
    const res = await registerIn(client, form(addressId));
    t.equal(res.statusCode, 400, `address ${JSON.stringify(addressId)}`);
    t.match(res.body, /<fieldset class="addresses" aria-describedby="address_id-error">/);
    t.match(res.body, message);
  }
  t.equal((await app.db.selectFrom('users').selectAll().where('email', '=', 'anouk@example.lu').execute()).length, 0, 'nobody was created');
});

t.test('registration needs the CSRF token', async (t) => {
  const { app, home } = await commune(t);
  const res = await app.inject({
    method: 'POST',
    url: '/register',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost:80', host: 'localhost:80' },
    payload: new URLSearchParams(form(home.id)).toString(),
  });
  t.equal(res.statusCode, 403);
  t.equal((await app.db.selectFrom('users').selectAll().where('email', '=', 'anouk@example.lu').execute()).length, 0);
});

t.test('registration is rate-limited per client: the 11th attempt within ten minutes answers 429', async (t) => {
  const { app } = await commune(t);
  const client = await visitor(app);
  for (let i = 1; i <= 10; i++) {
    const res = await registerIn(client, form('', { email: `p${i}@example.lu` }));
    if (res.statusCode !== 400) t.fail(`attempt ${i} answered ${res.statusCode}`);
  }
  const res = await registerIn(client, form('', { email: 'p11@example.lu' }));
  t.equal(res.statusCode, 429);
  t.ok(res.headers['retry-after']);
});

t.test('after registering, the login page still shows its form, so logging in again works (as an operator script does)', async (t) => {
  const { app, home, codeOf } = await commune(t);
  const client = await visitor(app);
  await registerIn(client, form(home.id, { code: codeOf(home.id) }));
  const login = await client.get('/login');
  t.equal(login.statusCode, 200);
  t.match(login.body, 'You are logged in as Anouk Muller.');
  const res = await client.post('/login', { email: 'anouk@example.lu', password: PASSWORD });
  t.equal(res.statusCode, 303);
  t.equal((await client.get('/n/belval')).statusCode, 200);
});

t.test('anonymous visitors get 401 on a board, signed-in residents who are waiting get 404', async (t) => {
  const { app } = await commune(t);
  t.equal((await app.inject({ url: '/n/belval' })).statusCode, 401);
  const { client } = await clientAs(app, { memberships: [{ slug: 'belval', verified: false }] });
  t.equal((await client.get('/n/belval')).statusCode, 404);
  t.equal((await client.get('/n/no-such-place')).statusCode, 404);
  const anon = await app.inject({ method: 'POST', url: '/verify/code', headers: { accept: 'application/json' } });
  t.ok([401, 403].includes(anon.statusCode), 'code entry needs an account');
});

t.test('before the commune has an administrator, a signed-in resident still gets the status page, not the first-run page', async (t) => {
  const { app } = await build(t);
  const home = await insertAddress(app, { street: 'Avenue de la Gare', number: '5', neighborhood: 'belval' });
  const client = await visitor(app);
  t.match((await client.get('/')).body, 'Welcome to Noper', 'visitors see the first-run page');
  const res = await registerIn(client, form(home.id));
  t.equal(res.statusCode, 303);
  const status = await client.get('/');
  t.equal(status.statusCode, 200);
  t.match(status.body, 'Your address is being verified');
  t.notMatch(status.body, 'Welcome to Noper');
});

t.test('with letters switched off: no code field, a code sent anyway is not tried, and code entry is refused with a clear message', async (t) => {
  const { app, home, codeOf } = await commune(t);
  await setSetting(app.db, 'verification.methods', ['vouch', 'counter']);
  const client = await visitor(app);
  t.notMatch((await client.get('/register')).body, 'name="code"');
  const res = await registerIn(client, form(home.id, { code: codeOf(home.id) }));
  t.equal(res.statusCode, 303);
  const { memberships } = await membershipsOf(app, 'anouk@example.lu');
  t.equal(memberships[0]!.verified_at, null, 'not verified by the code');
  const status = await client.get('/');
  t.notMatch(status.body, 'action="/verify/code"', 'the status page offers no code entry');
  t.notMatch(status.body, 'not accepted');
  t.match(status.body, 'With 2 neighbours');
  const code = await client.post('/verify/code', { code: codeOf(home.id) });
  t.equal(code.statusCode, 403);
  t.match(code.body, 'Codes from the letter are not used in this commune.');
  const row = await app.db.selectFrom('letter_codes').select('uses').where('address_id', '=', home.id).where('revoked_at', 'is', null).executeTakeFirstOrThrow();
  t.equal(row.uses, 0, 'the household code was not spent');
});
