// GET and POST /account/profile: all optional, plain text stored as given and escaped on output, errors per field with the typed values kept.
import t from 'tap';
import { build, Client, createUser } from '../helpers/app.ts';
import { residentClient } from '../helpers/members.ts';

type T = Parameters<Parameters<typeof t.test>[0]>[0];

async function setup(t: T, spec: Parameters<typeof residentClient>[1] = {}) {
  const { app } = await build(t);
  await createUser(app, { role: 'admin', email: 'admin@example.lu' });
  const { client, user } = await residentClient(app, { name: 'Anouk Thill', email: 'anouk@example.lu', number: '237B', ...spec });
  return { app, client, user };
}

const form = (extra: Record<string, string> = {}) => ({ can_help: '', new_since_month: '', new_since_year: '', intro: '', ...extra });

/** A form body with repeated fields (languages=lb&languages=pt), as browsers send checkboxes. */
async function postProfile(client: Client, fields: Record<string, string>, languages: string[] = []) {
  if (!client.csrf) await client.get('/account/profile');
  const body = new URLSearchParams({ _csrf: client.csrf ?? '', ...fields });
  for (const l of languages) body.append('languages', l);
  return client.request({
    method: 'POST',
    url: '/account/profile',
    payload: body.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost:80', host: 'localhost:80' },
  });
}

t.test('the profile page: an empty form with its CSRF token, how neighbours see me, no inline style or script', async (t) => {
  const { client } = await setup(t);
  const res = await client.get('/account/profile');
  t.equal(res.statusCode, 200);
  t.match(res.body, '<h1>Your profile</h1>');
  t.match(res.body, /<form method="post" action="\/account\/profile"/);
  t.match(res.body, /name="_csrf" value="[^"]+"/);
  t.match(res.body, "Anouk T., Rue de l&#x27;Alzette", 'the public name');
  t.notMatch(res.body, '237B', 'never the house number');
  for (const code of ['lb', 'fr', 'de', 'en', 'pt', 'it', 'other']) t.match(res.body, `name="languages" value="${code}"`);
  t.match(res.body, /<input type="checkbox" name="directory" value="1" aria-describedby="directory-hint">/, 'directory opt-in, off by default');
  t.notMatch(res.body, /<script(?![^>]*src=)/);
  t.notMatch(res.body, /\sstyle=/);
  t.notMatch(res.body, /\son[a-z]+=/);
});

t.test('anonymous visitors are sent to log in', async (t) => {
  const { app } = await build(t);
  const res = await app.inject({ url: '/account/profile' });
  t.equal(res.statusCode, 401);
});

t.test('a saved profile comes back in the form (round trip), 303 after the POST', async (t) => {
  const { app, client, user } = await setup(t);
  const res = await postProfile(client, form({ can_help: 'Small repairs & bikes', new_since_month: '3', new_since_year: '2024', intro: 'Hello!\nWe moved here with two cats.', directory: '1' }), ['pt', 'lb', 'pt']);
  t.equal(res.statusCode, 303);
  t.equal(res.headers.location, '/account/profile?saved=1');
  const row = await app.db.selectFrom('profiles').selectAll().where('user_id', '=', user.id).executeTakeFirstOrThrow();
  t.equal(row.languages, '["lb","pt"]', 'each once, in the list order');
  t.equal(row.can_help, 'Small repairs & bikes', 'stored as given');
  t.equal(row.new_since, '2024-03');
  t.equal(row.intro, 'Hello!\nWe moved here with two cats.');
  t.ok(row.directory_at, 'opted in');

  const page = await client.get('/account/profile?saved=1');
  t.match(page.body, 'Your profile is saved.');
  t.match(page.body, 'value="Small repairs &amp; bikes"');
  t.match(page.body, /value="lb" checked/);
  t.match(page.body, /value="pt" checked/);
  t.notMatch(page.body, /value="fr" checked/);
  t.match(page.body, /<option value="3" selected>March<\/option>/);
  t.match(page.body, 'value="2024"');
  t.match(page.body, '>Hello!\nWe moved here with two cats.</textarea>');
  t.match(page.body, /name="directory" value="1" aria-describedby="directory-hint" checked/);

  // Unticking everything clears it again; opting out clears the listing.
  const again = await postProfile(client, form());
  t.equal(again.statusCode, 303);
  const cleared = await app.db.selectFrom('profiles').selectAll().where('user_id', '=', user.id).executeTakeFirstOrThrow();
  t.same([cleared.languages, cleared.can_help, cleared.new_since, cleared.intro, cleared.directory_at], [null, null, null, null, null]);
});

t.test('opting in again keeps the first opt-in date', async (t) => {
  const { app, client, user } = await setup(t);
  await postProfile(client, form({ directory: '1' }));
  const first = (await app.db.selectFrom('profiles').select('directory_at').where('user_id', '=', user.id).executeTakeFirstOrThrow()).directory_at;
  await postProfile(client, form({ directory: '1', can_help: 'Gardening' }));
  const second = (await app.db.selectFrom('profiles').select('directory_at').where('user_id', '=', user.id).executeTakeFirstOrThrow()).directory_at;
  t.equal(second, first);
});

t.test('markup is stored as typed and always shown escaped', async (t) => {
  const { app, client, user } = await setup(t);
  const evil = '<script>alert(1)</script><b onmouseover="x">hi</b>';
  const res = await postProfile(client, form({ can_help: evil, intro: evil }));
  t.equal(res.statusCode, 303);
  const row = await app.db.selectFrom('profiles').selectAll().where('user_id', '=', user.id).executeTakeFirstOrThrow();
  t.equal(row.intro, evil);
  const page = await client.get('/account/profile');
  t.notMatch(page.body, '<script>alert(1)');
  t.notMatch(page.body, '<b onmouseover');
  t.match(page.body, '&lt;script&gt;alert(1)&lt;/script&gt;');
});

t.test('too long texts, a half date and a future date: 400, each message next to its field, everything typed kept', async (t) => {
  const { app, client, user } = await setup(t);
  const long = 'é'.repeat(201);
  const res = await postProfile(client, form({ can_help: long, intro: 'x'.repeat(501), new_since_month: '5', new_since_year: '', directory: '1' }), ['fr']);
  t.equal(res.statusCode, 400);
  t.match(res.body, 'Please correct the marked fields.');
  t.match(res.body, /<p class="field-error" id="can_help-error">Please write at most 200 characters.<\/p>/);
  t.match(res.body, /<p class="field-error" id="intro-error">Please write at most 500 characters.<\/p>/);
  t.match(res.body, /<p class="field-error" id="new_since-error">Please choose both the month and the year, or leave both empty.<\/p>/);
  t.match(res.body, /id="can_help"[^>]*aria-invalid="true"/);
  t.match(res.body, `value="${long}"`, 'the text typed comes back');
  t.match(res.body, /<option value="5" selected>May<\/option>/);
  t.match(res.body, /value="fr" checked/);
  t.match(res.body, /name="directory" value="1" aria-describedby="directory-hint" checked/);
  t.notOk(await app.db.selectFrom('profiles').select('user_id').where('user_id', '=', user.id).executeTakeFirst(), 'nothing stored');

  const future = await postProfile(client, form({ new_since_month: '1', new_since_year: String(new Date().getUTCFullYear() + 1) }));
  t.equal(future.statusCode, 400);
  t.match(future.body, 'This date lies in the future.');
  const bad = await postProfile(client, form({ new_since_month: '13', new_since_year: '24' }));
  t.equal(bad.statusCode, 400);
  t.match(bad.body, 'enter the year with four digits (from 1900)');
});

t.test('exactly 200 and 500 characters (counted as characters, not bytes) are accepted', async (t) => {
  const { client } = await setup(t);
  const res = await postProfile(client, form({ can_help: 'ë'.repeat(200), intro: '🌻'.repeat(500) }));
  t.equal(res.statusCode, 303);
});

t.test('the errors speak the reader’s language', async (t) => {
  const { client } = await setup(t, { lang: 'lb' });
  const res = await postProfile(client, form({ can_help: 'x'.repeat(201) }));
  t.equal(res.statusCode, 400);
  t.match(res.body, '<h1>Äre Profil</h1>');
  t.match(res.body, 'Schreift w.e.g. héchstens 200 Zeechen.');
});

t.test('unknown languages and extra fields (role, user_id, directory_at) are ignored', async (t) => {
  const { app, client, user } = await setup(t);
  const res = await postProfile(client, form({ role: 'admin', user_id: 'someone-else', directory_at: '1' }), ['xx', 'de']);
  t.equal(res.statusCode, 303);
  const row = await app.db.selectFrom('profiles').selectAll().where('user_id', '=', user.id).executeTakeFirstOrThrow();
  t.equal(row.languages, '["de"]');
  t.equal(row.directory_at, null);
  const u = await app.db.selectFrom('users').select('role').where('id', '=', user.id).executeTakeFirstOrThrow();
  t.equal(u.role, 'resident');
});

t.test('a POST without the CSRF token changes nothing', async (t) => {
  const { app, client, user } = await setup(t);
  const res = await client.request({
    method: 'POST',
    url: '/account/profile',
    payload: 'can_help=x&directory=1',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  t.equal(res.statusCode, 403);
  t.notOk(await app.db.selectFrom('profiles').select('user_id').where('user_id', '=', user.id).executeTakeFirst());
});
