// Vouching: verified neighbours confirm that a waiting resident lives in their neighbourhood; the commune's threshold verifies them.
import t from 'tap';
import { build, Client, createUser, ensureNeighborhood } from '../helpers/app.ts';
import { vouchCount } from '../../server/core/verification/vouch.service.ts';
import { auditOf, membershipOf, resident, residentClient } from '../helpers/residents.ts';
import { setSetting } from '../../server/core/settings/settings.repository.ts';
import { verificationSettings } from '../../server/core/verification/verification-settings.ts';

type T = Parameters<Parameters<typeof t.test>[0]>[0];

/** Belval with two verified neighbours and one waiting resident; Lallange with a verified member; an admin. */
async function neighbourhood(t: T) {
  const { app } = await build(t);
  await createUser(app, { role: 'admin', email: 'admin@example.lu' });
  const waiting = await resident(app, { slug: 'belval', name: 'Anouk Muller', email: 'anouk@example.lu', street: "Rue de l'Église", number: '12', verified: false });
  const a = await residentClient(app, { slug: 'belval', name: 'Paul Weber', street: 'Avenue du Swing', number: '3' });
  const b = await residentClient(app, { slug: 'belval', name: 'Léa Schmit', street: 'Porte de France', number: '9' });
  const far = await residentClient(app, { slug: 'lallange', name: 'Tom Klein', street: 'Rue de Lallange', number: '1' });
  return { app, waiting, a, b, far };
}

t.test('the vouching page shows waiting neighbours as first name, initial and street only, with a form to confirm each', async (t) => {
  const { app, a, waiting } = await neighbourhood(t);
  const board = await a.client.get('/n/belval');
  t.match(board.body, '<a href="/n/belval/vouch">Neighbours waiting for verification (1)</a>', 'the board links to it');
  const res = await a.client.get('/n/belval/vouch');
  t.equal(res.statusCode, 200);
  t.match(res.body, '<h1>Neighbours waiting for verification</h1>');
  t.match(res.body, '<strong>Anouk M.</strong>');
  t.match(res.body, 'Rue de l&#x27;Église');
  t.notMatch(res.body, 'Muller', 'no surname');
  t.notMatch(res.body, /12,? Rue de l/, 'no house number');
  t.notMatch(res.body, 'anouk@example.lu', 'no e-mail address');
  t.notMatch(res.body, 'Paul W.', 'not the reader');
  t.notMatch(res.body, 'Léa S.', 'not verified members');
  t.match(res.body, `<form method="post" action="/n/belval/vouch/${waiting.id}"`);
  t.match(res.body, /name="_csrf" value="[^"]+"/);
  t.match(res.body, 'I know this person lives here');
  t.match(res.body, 'Confirmations: 0 of 2');
  t.notMatch(res.body, /<script(?![^>]*src=)/, 'no inline script');
  t.notMatch(res.body, /\sstyle=/, 'no style attributes');
});

t.test('two vouches (the default) verify the resident: the first counts, the second verifies, both are logged', async (t) => {
  const { app, a, b, waiting } = await neighbourhood(t);
  const first = await a.client.post(`/n/belval/vouch/${waiting.id}`);
  t.equal(first.statusCode, 303);
  t.equal(first.headers.location, '/n/belval/vouch?done=counted');
  t.equal((await membershipOf(app, waiting.id, waiting.neighborhoodId))!.verified_at, null, 'one vouch is not enough');
  const page = await a.client.get('/n/belval/vouch?done=counted');
  t.match(page.body, 'Thank you: your confirmation has been counted.');
  t.match(page.body, 'You have confirmed this person.');
  t.match(page.body, 'Confirmations: 1 of 2');

  const second = await b.client.post(`/n/belval/vouch/${waiting.id}`);
  t.equal(second.statusCode, 303);
  t.equal(second.headers.location, '/n/belval/vouch?done=verified');
  const m = (await membershipOf(app, waiting.id, waiting.neighborhoodId))!;
  t.ok(m.verified_at, 'verified');
  t.equal(m.verified_by, 'vouch');
  t.notMatch((await b.client.get('/n/belval/vouch')).body, 'Anouk M.', 'no longer waiting');

  const vouches = await auditOf(app, 'membership.vouched');
  t.same(vouches.map((v) => [v.actor_id, v.subject]), [[a.user.id, waiting.id], [b.user.id, waiting.id]]);
  const verified = await auditOf(app, 'membership.verified');
  t.equal(verified.length, 1);
  t.equal(verified[0]!.subject, waiting.id);
  t.match(verified[0]!.detail, { by: 'vouch', neighborhood: waiting.neighborhoodId, vouchers: [a.user.id, b.user.id] });
});

t.test('the threshold is the commune setting verification.vouches', async (t) => {
  const { app, a, b, waiting } = await neighbourhood(t);
  await setSetting(app.db, 'verification.vouches', 3);
  const c = await residentClient(app, { slug: 'belval', name: 'Marc Hoffmann', street: 'Rue du Fossé' });
  t.match((await a.client.get('/n/belval/vouch')).body, 'Confirmations: 0 of 3');
  await a.client.post(`/n/belval/vouch/${waiting.id}`);
  await b.client.post(`/n/belval/vouch/${waiting.id}`);
  t.equal((await membershipOf(app, waiting.id, waiting.neighborhoodId))!.verified_at, null, 'two of three');
  const third = await c.client.post(`/n/belval/vouch/${waiting.id}`);
  t.equal(third.headers.location, '/n/belval/vouch?done=verified');
  t.equal((await membershipOf(app, waiting.id, waiting.neighborhoodId))!.verified_by, 'vouch');

  await setSetting(app.db, 'verification.vouches', 1);
  const next = await resident(app, { slug: 'belval', name: 'Nina Reuter', verified: false });
  await a.client.post(`/n/belval/vouch/${next.id}`);
  t.ok((await membershipOf(app, next.id, next.neighborhoodId))!.verified_at, 'one is enough when the commune says so');
});

t.test('nobody vouches for themselves', async (t) => {
  const { app, a } = await neighbourhood(t);
  const res = await a.client.post(`/n/belval/vouch/${a.user.id}`);
  t.equal(res.statusCode, 404);
  t.equal((await app.db.selectFrom('vouches').selectAll().execute()).length, 0);
});

t.test('one vouch per voucher and resident: vouching twice changes nothing', async (t) => {
  const { app, a, waiting } = await neighbourhood(t);
  await a.client.post(`/n/belval/vouch/${waiting.id}`);
  const again = await a.client.post(`/n/belval/vouch/${waiting.id}`);
  t.equal(again.statusCode, 303);
  t.equal(again.headers.location, '/n/belval/vouch?done=already');
  t.match((await a.client.get(again.headers.location!)).body, 'You had confirmed this person already.');
  t.equal((await app.db.selectFrom('vouches').selectAll().execute()).length, 1);
  t.equal((await auditOf(app, 'membership.vouched')).length, 1);
  t.equal((await membershipOf(app, waiting.id, waiting.neighborhoodId))!.verified_at, null, 'still waiting');
});

t.test('only verified members of the same neighbourhood vouch: others get 404 and nothing is counted', async (t) => {
  const { app, far, waiting } = await neighbourhood(t);
  t.equal((await far.client.get('/n/belval/vouch')).statusCode, 404, 'a member of Lallange does not see the page');
  t.equal((await far.client.post(`/n/belval/vouch/${waiting.id}`)).statusCode, 404, 'nor vouch there');
  t.equal((await far.client.post(`/n/lallange/vouch/${waiting.id}`)).statusCode, 404, 'nor for a Belval resident from Lallange');

  const pending = await residentClient(app, { slug: 'belval', name: 'Jo Wagner', verified: false });
  t.equal((await pending.client.post(`/n/belval/vouch/${waiting.id}`)).statusCode, 404, 'a resident still waiting cannot vouch');
  t.equal((await app.inject({ url: '/n/belval/vouch' })).statusCode, 401, 'anonymous visitors are asked to log in');
  t.equal((await app.db.selectFrom('vouches').selectAll().execute()).length, 0);
});

t.test('a verified member cannot vouch for someone who is verified already or does not exist', async (t) => {
  const { app, a, b } = await neighbourhood(t);
  t.equal((await a.client.post(`/n/belval/vouch/${b.user.id}`)).statusCode, 404);
  t.equal((await a.client.post('/n/belval/vouch/no-such-user')).statusCode, 404);
  t.equal((await app.db.selectFrom('vouches').selectAll().execute()).length, 0);
});

t.test('vouching needs the CSRF token', async (t) => {
  const { app, a, waiting } = await neighbourhood(t);
  const res = await a.client.request({
    method: 'POST',
    url: `/n/belval/vouch/${waiting.id}`,
    payload: '',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost:80', host: 'localhost:80' },
  });
  t.equal(res.statusCode, 403);
  t.equal((await app.db.selectFrom('vouches').selectAll().execute()).length, 0);
});

t.test('when the commune switched vouching off, the page and the form are refused with a clear message and nothing offers it', async (t) => {
  const { app, a, waiting } = await neighbourhood(t);
  await setSetting(app.db, 'verification.methods', ['letter', 'counter']);
  const page = await a.client.get('/n/belval/vouch');
  t.equal(page.statusCode, 403);
  t.match(page.body, 'Confirmation by neighbours is not used in this commune.');
  const post = await a.client.post(`/n/belval/vouch/${waiting.id}`);
  t.equal(post.statusCode, 403);
  const json = await a.client.request({ method: 'GET', url: '/n/belval/vouch', headers: { accept: 'application/json' } });
  t.same(JSON.parse(json.body), { error: { code: 'VOUCH_OFF', message: 'Confirmation by neighbours is not used in this commune. Please choose another way to get verified.' } });
  t.equal((await app.db.selectFrom('vouches').selectAll().execute()).length, 0);
  t.notMatch((await a.client.get('/n/belval')).body, '/n/belval/vouch', 'the board does not link to it');

  const { client } = await residentClient(app, { slug: 'belval', name: 'Jo Wagner', verified: false });
  const status = await client.get('/');
  t.equal(status.statusCode, 200);
  t.match(status.body, 'Your address is being verified');
  t.notMatch(status.body, 'neighbours who are verified already', 'the status page does not offer vouching');
  t.match(status.body, 'With the code from the letter');
  t.match(status.body, 'At the commune&#x27;s counter');
});

t.test('the waiting resident’s status page explains vouching with the commune’s number and shows the progress', async (t) => {
  const { app, a, waiting } = await neighbourhood(t);
  await setSetting(app.db, 'verification.vouches', 3);
  const client = new Client(app);
  await client.login(waiting.email, waiting.password);
  let status = await client.get('/');
  t.match(status.body, 'With 3 neighbours');
  t.match(status.body, '3 neighbours who are verified already and know that you live here can confirm it for you');
  t.notMatch(status.body, 'Confirmed so far');
  await a.client.post(`/n/belval/vouch/${waiting.id}`);
  status = await client.get('/');
  t.match(status.body, 'Confirmed so far: 1 of 3.');
});

t.test('two neighbours vouching at the same moment verify the resident, once', async (t) => {
  const { app, a, b, waiting } = await neighbourhood(t);
  const [x, y] = await Promise.all([a.client.post(`/n/belval/vouch/${waiting.id}`), b.client.post(`/n/belval/vouch/${waiting.id}`)]);
  t.same([x.statusCode, y.statusCode], [303, 303]);
  t.same([x.headers.location, y.headers.location].sort(), ['/n/belval/vouch?done=counted', '/n/belval/vouch?done=verified']);
  t.equal((await membershipOf(app, waiting.id, waiting.neighborhoodId))!.verified_by, 'vouch');
  t.equal((await auditOf(app, 'membership.verified')).length, 1);
});

t.test('the verification settings read with defaults, and a value that cannot be right falls back instead of breaking', async (t) => {
  const { app } = await build(t);
  t.same(await verificationSettings(app.db), { methods: ['letter', 'vouch', 'counter'], vouches: 2 }, 'defaults');
  await setSetting(app.db, 'verification.methods', ['counter', 'fax', 'letter']);
  await setSetting(app.db, 'verification.vouches', 4);
  t.same(await verificationSettings(app.db), { methods: ['letter', 'counter'], vouches: 4 }, 'unknown methods ignored');
  await setSetting(app.db, 'verification.methods', 'letter');
  await setSetting(app.db, 'verification.vouches', 0);
  t.same(await verificationSettings(app.db), { methods: ['letter', 'vouch', 'counter'], vouches: 2 });
  await setSetting(app.db, 'verification.methods', []);
  await setSetting(app.db, 'verification.vouches', 50);
  t.same(await verificationSettings(app.db), { methods: [], vouches: 10 }, 'all off is a choice; the threshold is capped');
});

t.test('a vouch from a neighbour who has since left no longer counts', async (t) => {
  const { app } = await build(t);
  const nid = await ensureNeighborhood(app, 'belval');
  const x = await createUser(app, { memberships: ['belval'] });
  const z = await createUser(app, { memberships: ['belval'] });
  const y = await createUser(app, { memberships: [{ slug: 'belval', verified: false }] });
  const now = Date.now();
  await app.db.insertInto('vouches').values({ user_id: y.id, neighborhood_id: nid, voucher_id: x.id, created_at: now }).execute();
  t.equal(await vouchCount(app.db, y.id, nid), 1);
  // X moves away: her membership of Belval ends.
  await app.db.deleteFrom('memberships').where('user_id', '=', x.id).execute();
  t.equal(await vouchCount(app.db, y.id, nid), 0, 'the vouch of someone who left does not count');
  await app.db.insertInto('vouches').values({ user_id: y.id, neighborhood_id: nid, voucher_id: z.id, created_at: now }).execute();
  await app.db.updateTable('users').set({ disabled_at: now }).where('id', '=', z.id).execute();
  t.equal(await vouchCount(app.db, y.id, nid), 0, 'nor that of a disabled account');
});
