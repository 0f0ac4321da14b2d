// Verification in person (moderators of the neighbourhood, commune admins), with a required note that is logged; admins naming moderators.
import t from 'tap';
import { build, clientAs, createUser } from '../helpers/app.ts';
import { auditOf, membershipOf, resident, residentClient } from '../helpers/residents.ts';
import { setSetting } from '../../server/core/settings/settings.repository.ts';

type T = Parameters<Parameters<typeof t.test>[0]>[0];

/** Belval with a moderator, a member and a waiting resident; Lallange with its own moderator and a waiting resident; an admin. */
async function commune(t: T) {
  const { app } = await build(t);
  const admin = await clientAs(app, { role: 'admin', email: 'admin@example.lu', name: 'Admin Person' });
  const waiting = await resident(app, { slug: 'belval', name: 'Anouk Muller', email: 'anouk@example.lu', street: "Rue de l'Église", number: '12', verified: false });
  const mod = await residentClient(app, { slug: 'belval', name: 'Paul Weber', email: 'paul@example.lu', role: 'moderator' });
  const member = await residentClient(app, { slug: 'belval', name: 'Léa Schmit', email: 'lea@example.lu' });
  const farMod = await residentClient(app, { slug: 'lallange', name: 'Tom Klein', role: 'moderator' });
  const farWaiting = await resident(app, { slug: 'lallange', name: 'Sara Lopes', street: 'Rue de Lallange', number: '4', verified: false });
  return { app, admin, waiting, mod, member, farMod, farWaiting };
}

t.test('a moderator sees the residents waiting in their neighbourhood with full name and address, and a form with a required note', async (t) => {
  const { mod, waiting } = await commune(t);
  const board = await mod.client.get('/n/belval');
  t.match(board.body, '<a href="/n/belval/pending">Verify residents in person (1 waiting)</a>');
  const res = await mod.client.get('/n/belval/pending');
  t.equal(res.statusCode, 200);
  t.match(res.body, '<h1>Verify residents in person</h1>');
  t.match(res.body, 'Anouk Muller');
  t.match(res.body, '12, Rue de l&#x27;Église, L-4131 Esch-sur-Alzette');
  t.notMatch(res.body, 'Sara Lopes', 'not the residents of another neighbourhood');
  t.match(res.body, `<form method="post" action="/n/belval/pending/${waiting.id}/verify"`);
  t.match(res.body, /<textarea id="note-[^"]+" name="note"[^>]*required/);
  t.notMatch(res.body, /\sstyle=/);
});

t.test('the moderator verifies with a note: verified_by counter, the note kept, who verified whom logged', async (t) => {
  const { app, mod, waiting } = await commune(t);
  const res = await mod.client.post(`/n/belval/pending/${waiting.id}/verify`, { note: 'ID card and electricity bill seen' });
  t.equal(res.statusCode, 303);
  t.equal(res.headers.location, '/n/belval/pending?done=1');
  const m = (await membershipOf(app, waiting.id, waiting.neighborhoodId))!;
  t.ok(m.verified_at);
  t.equal(m.verified_by, 'counter');
  t.equal(m.verified_note, 'ID card and electricity bill seen');
  const log = await auditOf(app, 'membership.verified');
  t.equal(log.length, 1);
  t.equal(log[0]!.actor_id, mod.user.id, 'who');
  t.equal(log[0]!.subject, waiting.id, 'whom');
  t.match(log[0]!.detail, { by: 'counter', note: 'ID card and electricity bill seen', neighborhood: waiting.neighborhoodId, role: 'moderator' });
  const page = await mod.client.get(res.headers.location!);
  t.match(page.body, 'The resident is verified.');
  t.notMatch(page.body, 'Anouk Muller');
});

t.test('without a note nothing is verified: the form comes back with the message at the field', async (t) => {
  const { app, mod, waiting } = await commune(t);
  const res = await mod.client.post(`/n/belval/pending/${waiting.id}/verify`, { note: '   ' });
  t.equal(res.statusCode, 400);
  t.match(res.body, /class="field-error" id="note-[^"]+-error">Please write a short note/);
  t.match(res.body, /aria-invalid="true"/);
  t.equal((await membershipOf(app, waiting.id, waiting.neighborhoodId))!.verified_at, null);
  t.equal((await auditOf(app, 'membership.verified')).length, 0);
  const long = await mod.client.post(`/n/belval/pending/${waiting.id}/verify`, { note: 'x'.repeat(501) });
  t.equal(long.statusCode, 400);
  t.match(long.body, 'at most 500 characters');
});

t.test('a moderator of another neighbourhood, a plain member and anonymous visitors cannot verify here', async (t) => {
  const { app, farMod, member, waiting } = await commune(t);
  t.equal((await farMod.client.get('/n/belval/pending')).statusCode, 404);
  t.equal((await farMod.client.post(`/n/belval/pending/${waiting.id}/verify`, { note: 'seen' })).statusCode, 404);
  t.equal((await farMod.client.post(`/n/lallange/pending/${waiting.id}/verify`, { note: 'seen' })).statusCode, 404, 'not through their own neighbourhood either');
  t.equal((await member.client.get('/n/belval/pending')).statusCode, 404);
  t.equal((await member.client.post(`/n/belval/pending/${waiting.id}/verify`, { note: 'seen' })).statusCode, 404);
  t.notMatch((await member.client.get('/n/belval')).body, '/n/belval/pending', 'members get no link');
  t.equal((await app.inject({ url: '/n/belval/pending' })).statusCode, 401);
  t.equal((await membershipOf(app, waiting.id, waiting.neighborhoodId))!.verified_at, null);
});

t.test('an admin finds a resident by name or e-mail address only, sees the address and status, and verifies with a note', async (t) => {
  const { app, admin, waiting } = await commune(t);
  const byName = await admin.client.get('/admin/members?q=anouk');
  t.equal(byName.statusCode, 200);
  t.match(byName.body, `<a href="/admin/members/${waiting.id}">Anouk Muller</a>`);
  t.match(byName.body, 'Waiting for verification');
  t.notMatch(byName.body, 'Paul Weber');
  t.match((await admin.client.get('/admin/members?q=ANOUK%40example')).body, 'Anouk Muller', 'by e-mail, any case');
  t.notMatch((await admin.client.get('/admin/members?q=Eglise')).body, 'Anouk Muller', 'not by address or anything else');
  t.match((await admin.client.get('/admin/members?q=a')).body, 'Type at least 2 characters');
  t.match((await admin.client.get('/admin/members?q=n_')).body, 'Nobody found', 'a typed _ matches itself, not any character');

  const page = await admin.client.get(`/admin/members/${waiting.id}`);
  t.equal(page.statusCode, 200);
  t.match(page.body, '<h1>Anouk Muller</h1>');
  t.match(page.body, 'anouk@example.lu');
  t.match(page.body, '12, Rue de l&#x27;Église, L-4131 Esch-sur-Alzette');
  t.match(page.body, 'Waiting for verification');
  t.match(page.body, `<form method="post" action="/admin/members/${waiting.id}/verify"`);

  const res = await admin.client.post(`/admin/members/${waiting.id}/verify`, { note: 'Passport and lease seen at the counter' });
  t.equal(res.statusCode, 303);
  t.equal(res.headers.location, `/admin/members/${waiting.id}?done=1`);
  const m = (await membershipOf(app, waiting.id, waiting.neighborhoodId))!;
  t.equal(m.verified_by, 'counter');
  t.equal(m.verified_note, 'Passport and lease seen at the counter');
  const log = await auditOf(app, 'membership.verified');
  t.equal(log[0]!.actor_id, admin.user.id);
  t.equal(log[0]!.subject, waiting.id);
  t.match(log[0]!.detail, { by: 'counter', note: 'Passport and lease seen at the counter', role: 'admin' });
  const after = await admin.client.get(res.headers.location!);
  t.match(after.body, 'The resident is verified.');
  t.match(after.body, /Verified on .* \(in person\)/);
  t.match(after.body, 'Passport and lease seen at the counter');
  t.notMatch(after.body, `action="/admin/members/${waiting.id}/verify"`, 'no form any more');
  t.equal((await admin.client.post(`/admin/members/${waiting.id}/verify`, { note: 'again' })).statusCode, 404, 'verifying twice is refused');
});

t.test('the admin must write a note too', async (t) => {
  const { app, admin, waiting } = await commune(t);
  await admin.client.get(`/admin/members/${waiting.id}`);
  const res = await admin.client.post(`/admin/members/${waiting.id}/verify`, { note: '' });
  t.equal(res.statusCode, 400);
  t.match(res.body, 'id="note-error">Please write a short note');
  t.equal((await membershipOf(app, waiting.id, waiting.neighborhoodId))!.verified_at, null);
});

t.test('residents and moderators are refused on the admin pages', async (t) => {
  const { mod, waiting } = await commune(t);
  t.equal((await mod.client.get('/admin/members?q=anouk')).statusCode, 403);
  t.equal((await mod.client.get(`/admin/members/${waiting.id}`)).statusCode, 403);
  t.equal((await mod.client.post(`/admin/members/${waiting.id}/verify`, { note: 'x' })).statusCode, 403);
});

t.test('when the commune switched verification in person off, moderators and admins are refused with a clear message', async (t) => {
  const { app, admin, mod, waiting } = await commune(t);
  await setSetting(app.db, 'verification.methods', ['letter', 'vouch']);
  const page = await mod.client.get('/n/belval/pending');
  t.equal(page.statusCode, 403);
  t.match(page.body, 'Verification in person is not used in this commune.');
  t.equal((await mod.client.post(`/n/belval/pending/${waiting.id}/verify`, { note: 'seen' })).statusCode, 403);
  t.notMatch((await mod.client.get('/n/belval')).body, '/n/belval/pending');
  const member = await admin.client.get(`/admin/members/${waiting.id}`);
  t.equal(member.statusCode, 200, 'the admin still finds the resident');
  t.notMatch(member.body, '/verify"');
  t.match(member.body, 'Verification in person is not used in this commune.');
  const post = await admin.client.post(`/admin/members/${waiting.id}/verify`, { note: 'seen' });
  t.equal(post.statusCode, 403);
  t.equal((await membershipOf(app, waiting.id, waiting.neighborhoodId))!.verified_at, null);
});

t.test('an admin names a verified member of the neighbourhood moderator by e-mail, and removes them again; both are logged', async (t) => {
  const { app, admin, member } = await commune(t);
  const page = await admin.client.get('/admin/neighborhoods/belval');
  t.match(page.body, '<h2 id="moderators">Moderators</h2>');
  t.match(page.body, 'Paul Weber');
  t.match(page.body, '<form method="post" action="/admin/neighborhoods/belval/moderators"');
  t.equal((await member.client.get('/n/belval/pending')).statusCode, 404, 'not a moderator yet');

  const res = await admin.client.post('/admin/neighborhoods/belval/moderators', { email: ' Lea@Example.lu ' });
  t.equal(res.statusCode, 303);
  t.equal(res.headers.location, '/admin/neighborhoods/belval?moderators=changed#moderators');
  t.equal((await membershipOf(app, member.user.id, member.user.neighborhoodId))!.role, 'moderator');
  t.equal((await member.client.get('/n/belval/pending')).statusCode, 200, 'the new moderator has the counter page at once');
  const named = await auditOf(app, 'moderator.named');
  t.same(named.map((r) => [r.actor_id, r.subject, r.detail]), [[admin.user.id, member.user.id, { neighborhood: member.user.neighborhoodId }]]);
  t.match((await admin.client.get('/admin/neighborhoods/belval')).body, 'Léa Schmit');

  const removed = await admin.client.post(`/admin/neighborhoods/belval/moderators/${member.user.id}/remove`);
  t.equal(removed.statusCode, 303);
  t.equal((await membershipOf(app, member.user.id, member.user.neighborhoodId))!.role, 'member');
  t.equal((await member.client.get('/n/belval/pending')).statusCode, 404, 'and loses it at once');
  t.same((await auditOf(app, 'moderator.removed')).map((r) => [r.actor_id, r.subject]), [[admin.user.id, member.user.id]]);
  t.equal((await admin.client.post(`/admin/neighborhoods/belval/moderators/${member.user.id}/remove`)).statusCode, 404, 'not a moderator any more');
});

t.test('only verified members of the neighbourhood can be named moderators', async (t) => {
  const { app, admin, farMod } = await commune(t);
  await createUser(app, { email: 'nobody@example.lu' });
  await admin.client.get('/admin/neighborhoods/belval');
  for (const email of ['anouk@example.lu', farMod.user.email, 'nobody@example.lu', 'unknown@example.lu']) {
    const res = await admin.client.post('/admin/neighborhoods/belval/moderators', { email });
    t.equal(res.statusCode, 400, email);
    t.match(res.body, 'No verified member of belval has this e-mail address.');
    t.match(res.body, `value="${email}"`, 'the address typed stays');
  }
  t.equal((await admin.client.post('/admin/neighborhoods/belval/moderators', { email: '' })).statusCode, 400);
  t.equal((await auditOf(app, 'moderator.named')).length, 0);
  t.equal((await mod(app)).length, 1, 'still only the one moderator');
  t.equal((await farMod.client.post('/admin/neighborhoods/belval/moderators', { email: farMod.user.email })).statusCode, 403, 'residents cannot name moderators');
});

async function mod(app: Awaited<ReturnType<typeof build>>['app']) {
  const belval = await app.db.selectFrom('neighborhoods').select('id').where('slug', '=', 'belval').executeTakeFirstOrThrow();
  return app.db.selectFrom('memberships').select('user_id').where('neighborhood_id', '=', belval.id).where('role', '=', 'moderator').execute();
}
