// Moving house: a new address from the register ends the old membership at once (board and live updates), and verification starts again.
import t from 'tap';
import { build, createUser, ensureNeighborhood } from '../helpers/app.ts';
import { insertAddress } from '../helpers/addresses.ts';
import { auditOf, membershipOf, residentClient } from '../helpers/residents.ts';
import { issueCodes } from '../../server/core/verification/letter-codes.service.ts';
import { setSetting } from '../../server/core/settings/settings.repository.ts';

type T = Parameters<Parameters<typeof t.test>[0]>[0];

/** A verified resident of Belval and a new address in Lallange with its letter issued. */
async function moving(t: T) {
  const { app } = await build(t);
  await createUser(app, { role: 'admin', email: 'admin@example.lu' });
  const { client, user } = await residentClient(app, { slug: 'belval', name: 'Anouk Muller', street: "Rue de l'Église", number: '12' });
  const next = await insertAddress(app, { street: 'Rue de Lallange', number: '8A', postcode: '4220', neighborhood: 'lallange' });
  const lallange = await ensureNeighborhood(app, 'lallange');
  await app.db.updateTable('neighborhoods').set({ name: 'Lallange' }).where('id', '=', lallange).execute();
  const letters = await issueCodes(app.db, { neighborhoodId: lallange });
  const code = letters.find((l) => l.address.id === next.id)!.code;
  return { app, client, user, next, lallange, code };
}

t.test('the page shows the current address and the registration’s address search, with htmx and without JavaScript', async (t) => {
  const { client, next } = await moving(t);
  const res = await client.get('/account/address');
  t.equal(res.statusCode, 200);
  t.match(res.body, '<h1>Change my address</h1>');
  t.match(res.body, '12, Rue de l&#x27;Église, L-4131 Esch-sur-Alzette');
  t.match(res.body, 'Verified in belval.');
  t.match(res.body, /<form method="get" action="\/account\/address"/);
  t.match(res.body, /<input id="q" name="q" type="search"[^>]*hx-get="\/addresses"/);
  t.match(res.body, /<form method="post" action="\/account\/address"/);
  t.match(res.body, /name="_csrf" value="[^"]+"/);
  t.match(res.body, 'name="code"');
  t.notMatch(res.body, /\sstyle=/);
  t.notMatch(res.body, /<script(?![^>]*src=)/);
  const search = await client.get('/account/address?q=lallange%208');
  t.match(search.body, `<input type="radio" name="address_id" value="${next.id}" data-address-id="${next.id}"`);
});

t.test('moving ends the old membership at once: the old board answers 404 right after, a new waiting membership starts, all logged', async (t) => {
  const { app, client, user, next, lallange } = await moving(t);
  t.equal((await client.get('/n/belval')).statusCode, 200);
  const res = await client.post('/account/address', { address_id: next.id });
  t.equal(res.statusCode, 303);
  t.equal(res.headers.location, '/');
  t.equal((await client.get('/n/belval')).statusCode, 404, 'the old board is closed');
  t.equal((await client.get('/n/lallange')).statusCode, 404, 'the new one is not open yet');
  t.equal(await membershipOf(app, user.id, user.neighborhoodId), undefined, 'the old membership row is gone');
  const m = (await membershipOf(app, user.id, lallange))!;
  t.equal(m.verified_at, null);
  t.equal(m.role, 'member');
  const row = await app.db.selectFrom('users').select('address_id').where('id', '=', user.id).executeTakeFirstOrThrow();
  t.equal(row.address_id, next.id);
  const log = await auditOf(app, 'resident.moved');
  t.equal(log.length, 1);
  t.equal(log[0]!.actor_id, user.id);
  t.same(log[0]!.detail, { from: user.address.id, to: next.id, ended: [user.neighborhoodId] });
  const status = await client.get('/');
  t.equal(status.statusCode, 200);
  t.match(status.body, 'Your address is being verified');
  t.match(status.body, '8A, Rue de Lallange, L-4220 Esch-sur-Alzette');
});

t.test('moving closes the resident’s live sockets, so they come back subscribed to the new neighbourhood only', async (t) => {
  const { app, client, next } = await moving(t);
  const ws = await app.injectWS('/ws', { headers: { cookie: client.cookieHeader } });
  const closed = new Promise<number>((r) => ws.once('close', (code: number) => r(code)));
  const res = await client.post('/account/address', { address_id: next.id });
  t.equal(res.statusCode, 303);
  t.equal(await closed, 4001);
});

t.test('with the letter code of the new address the move is verified at once', async (t) => {
  const { app, client, user, next, lallange, code } = await moving(t);
  const res = await client.post('/account/address', { address_id: next.id, code });
  t.equal(res.statusCode, 303);
  const m = (await membershipOf(app, user.id, lallange))!;
  t.ok(m.verified_at);
  t.equal(m.verified_by, 'letter');
  t.equal((await client.get('/n/lallange')).statusCode, 200);
  t.equal((await client.get('/n/belval')).statusCode, 404);
});

t.test('a wrong code still moves, unverified, and the status page says the code was not accepted', async (t) => {
  const { app, client, user, next, lallange } = await moving(t);
  const res = await client.post('/account/address', { address_id: next.id, code: 'ABCD-EFGH-JKMN' });
  t.equal(res.statusCode, 303);
  t.equal((await membershipOf(app, user.id, lallange))!.verified_at, null);
  t.match((await client.get('/')).body, 'The code you entered was not accepted.');
});

t.test('the vouches collected for the old membership go with it', async (t) => {
  const { app, next } = await moving(t);
  const { client, user } = await residentClient(app, { slug: 'belval', name: 'Jo Wagner', verified: false });
  const voucher = await residentClient(app, { slug: 'belval', name: 'Paul Weber' });
  await voucher.client.post(`/n/belval/vouch/${user.id}`);
  t.equal((await app.db.selectFrom('vouches').selectAll().execute()).length, 1);
  await client.get('/account/address');
  await client.post('/account/address', { address_id: next.id });
  t.equal((await app.db.selectFrom('vouches').selectAll().execute()).length, 0);
});

t.test('refused: no address, an unknown or retired one, the current one; nothing changes', async (t) => {
  const { app, client, user } = await moving(t);
  const retired = await insertAddress(app, { street: 'Rue Disparue', number: '1', neighborhood: 'lallange', retired: true });
  await client.get('/account/address');
  for (const [addressId, message] of [
    ['', 'Please search for your new address and choose it from the list.'],
    ['no-such-address', 'This address is not in the commune&#x27;s register.'],
    [retired.id, 'This address is not in the commune&#x27;s register.'],
    [user.address.id, 'This is your address already.'],
  ] as const) {
    const res = await client.post('/account/address', { address_id: addressId });
    t.equal(res.statusCode, 400, `address ${JSON.stringify(addressId)}`);
    t.match(res.body, 'id="address_id-error">');
    t.match(res.body, message);
  }
  t.ok((await membershipOf(app, user.id, user.neighborhoodId))!.verified_at, 'still a verified member of Belval');
  t.equal((await client.get('/n/belval')).statusCode, 200);
  t.equal((await auditOf(app, 'resident.moved')).length, 0);
});

t.test('with letters switched off, the code field is gone and a code sent anyway is refused with a clear message', async (t) => {
  const { app, client, user, next, code } = await moving(t);
  await setSetting(app.db, 'verification.methods', ['vouch', 'counter']);
  const page = await client.get('/account/address');
  t.notMatch(page.body, 'name="code"');
  const res = await client.post('/account/address', { address_id: next.id, code });
  t.equal(res.statusCode, 400);
  t.match(res.body, 'Codes from the letter are not used in this commune.');
  t.ok((await membershipOf(app, user.id, user.neighborhoodId))!.verified_at, 'nothing moved');
});

t.test('the page needs an account, and the form the CSRF token', async (t) => {
  const { app, client, next } = await moving(t);
  t.equal((await app.inject({ url: '/account/address' })).statusCode, 401);
  const res = await client.request({
    method: 'POST',
    url: '/account/address',
    payload: new URLSearchParams({ address_id: next.id }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost:80', host: 'localhost:80' },
  });
  t.equal(res.statusCode, 403);
  t.equal((await client.get('/n/belval')).statusCode, 200);
});
