// member.verified: every way of verifying emits it once, and listeners run only after the commit (they read the verified row).
import t from 'tap';
import { build, Client, createUser, ensureNeighborhood } from '../helpers/app.ts';
import { insertAddress } from '../helpers/addresses.ts';
import { resident, residentClient } from '../helpers/residents.ts';
import { issueCodes } from '../../server/core/verification/letter-codes.service.ts';

type T = Parameters<Parameters<typeof t.test>[0]>[0];

interface Seen {
  userId: string;
  neighborhoodId: string;
  /** what a separate connection saw when the listener ran: committed data only */
  verifiedBy: string | null | undefined;
}

async function setup(t: T) {
  const { app } = await build(t);
  const seen: Seen[] = [];
  app.bus.on('member.verified', async (e) => {
    const m = await app.db.selectFrom('memberships').select(['verified_at', 'verified_by']).where('user_id', '=', e.userId).where('neighborhood_id', '=', e.neighborhoodId).executeTakeFirst();
    seen.push({ ...e, verifiedBy: m?.verified_at ? m.verified_by : undefined });
  });
  const admin = new Client(app);
  const adminUser = await createUser(app, { role: 'admin', email: 'admin@example.lu' });
  await admin.login(adminUser.email, adminUser.password);
  const belval = await ensureNeighborhood(app, 'belval');
  const settle = async () => {
    await app.bus.drain();
    return seen.splice(0);
  };
  return { app, admin, belval, settle };
}

t.test('a letter code (status page and registration) emits member.verified once, after the commit', async (t) => {
  const { app, belval, settle } = await setup(t);
  const home = await insertAddress(app, { street: 'Avenue du Swing', number: '2', neighborhood: 'belval' });
  const other = await insertAddress(app, { street: 'Avenue du Swing', number: '4', neighborhood: 'belval' });
  const letters = await issueCodes(app.db, { neighborhoodId: belval });
  const codeOf = (id: string) => letters.find((l) => l.address.id === id)!.code;

  const visitor = new Client(app);
  await visitor.get('/register');
  await visitor.post('/register', { name: 'Anouk Muller', email: 'anouk@example.lu', password: 'correct horse battery', address_id: home.id, code: codeOf(home.id) });
  const anouk = await app.db.selectFrom('users').select('id').where('email', '=', 'anouk@example.lu').executeTakeFirstOrThrow();
  t.same(await settle(), [{ userId: anouk.id, neighborhoodId: belval, verifiedBy: 'letter' }], 'at registration');

  const later = new Client(app);
  await later.get('/register');
  await later.post('/register', { name: 'Paul Weber', email: 'paul@example.lu', password: 'correct horse battery', address_id: other.id });
  await later.login('paul@example.lu', 'correct horse battery');
  await later.post('/verify/code', { code: 'ABCD-EFGH-JKMN' });
  t.same(await settle(), [], 'a wrong code emits nothing');
  await later.post('/verify/code', { code: codeOf(other.id) });
  await later.post('/verify/code', { code: codeOf(other.id) });
  const paul = await app.db.selectFrom('users').select('id').where('email', '=', 'paul@example.lu').executeTakeFirstOrThrow();
  t.same(await settle(), [{ userId: paul.id, neighborhoodId: belval, verifiedBy: 'letter' }], 'on the status page, once');
});

t.test('vouching emits it once, when the threshold is reached', async (t) => {
  const { app, belval, settle } = await setup(t);
  const waiting = await resident(app, { slug: 'belval', name: 'Anouk Muller', verified: false });
  const a = await residentClient(app, { slug: 'belval', name: 'Paul Weber' });
  const b = await residentClient(app, { slug: 'belval', name: 'Léa Schmit' });
  const c = await residentClient(app, { slug: 'belval', name: 'Marc Hoffmann' });
  await a.client.post(`/n/belval/vouch/${waiting.id}`);
  t.same(await settle(), [], 'one vouch: nothing yet');
  await b.client.post(`/n/belval/vouch/${waiting.id}`);
  t.same(await settle(), [{ userId: waiting.id, neighborhoodId: belval, verifiedBy: 'vouch' }]);
  t.equal((await c.client.post(`/n/belval/vouch/${waiting.id}`)).statusCode, 404, 'a third vouch finds nobody waiting');
  t.same(await settle(), [], 'and emits nothing');
});

t.test('verification in person emits it once, by a moderator and by an admin', async (t) => {
  const { app, admin, belval, settle } = await setup(t);
  const first = await resident(app, { slug: 'belval', name: 'Anouk Muller', verified: false });
  const second = await resident(app, { slug: 'belval', name: 'Jo Wagner', verified: false });
  const mod = await residentClient(app, { slug: 'belval', name: 'Paul Weber', role: 'moderator' });
  await mod.client.post(`/n/belval/pending/${first.id}/verify`, { note: '' });
  t.same(await settle(), [], 'a refused form emits nothing');
  await mod.client.post(`/n/belval/pending/${first.id}/verify`, { note: 'ID card seen' });
  t.same(await settle(), [{ userId: first.id, neighborhoodId: belval, verifiedBy: 'counter' }], 'moderator');
  await admin.get(`/admin/members/${second.id}`);
  await admin.post(`/admin/members/${second.id}/verify`, { note: 'Passport seen' });
  await admin.post(`/admin/members/${second.id}/verify`, { note: 'Passport seen' });
  t.same(await settle(), [{ userId: second.id, neighborhoodId: belval, verifiedBy: 'counter' }], 'admin, once');
});

t.test('moving with the new address’s code emits it for the new neighbourhood; moving without emits nothing', async (t) => {
  const { app, settle } = await setup(t);
  const next = await insertAddress(app, { street: 'Rue de Lallange', number: '3', neighborhood: 'lallange' });
  const plain = await insertAddress(app, { street: 'Rue de Lallange', number: '5', neighborhood: 'lallange' });
  const lallange = await ensureNeighborhood(app, 'lallange');
  const letters = await issueCodes(app.db, { neighborhoodId: lallange });
  const mover = await residentClient(app, { slug: 'belval', name: 'Anouk Muller' });
  await mover.client.get('/account/address');
  await mover.client.post('/account/address', { address_id: next.id, code: letters.find((l) => l.address.id === next.id)!.code });
  t.same(await settle(), [{ userId: mover.user.id, neighborhoodId: lallange, verifiedBy: 'letter' }]);
  const other = await residentClient(app, { slug: 'belval', name: 'Jo Wagner' });
  await other.client.get('/account/address');
  await other.client.post('/account/address', { address_id: plain.id });
  t.same(await settle(), []);
});
