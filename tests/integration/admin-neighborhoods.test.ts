// Admin pages of the neighbourhoods: figures, the server-drawn SVG map, and the review list with one-click assignment.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { build, clientAs, type Teardown } from '../helpers/app.ts';
import { ROOT } from '../../server/paths.ts';
import { importAddresses } from '../../server/core/addresses/addresses.import.ts';
import { importNeighborhoods } from '../../server/core/neighborhoods/neighborhoods.import.ts';

const DATA = path.join(ROOT, '..', 'shared', 'data');

async function eschCommune(t: Teardown) {
  const built = await build(t);
  await importNeighborhoods(built.app.db, fs.readFileSync(path.join(DATA, 'lux-quartiers', 'quartiers_esch-sur-alzette.geojson'), 'utf8'), 'NAME');
  await importAddresses(built.app.db, fs.readFileSync(path.join(DATA, 'caclr-addresses', 'caclr_addresses_esch-sur-alzette.csv'), 'utf8'));
  return built;
}

t.test('an admin sees every neighbourhood with its counts, and a map of one drawn as SVG with its neighbours', async (t) => {
  const { app } = await eschCommune(t);
  const { client } = await clientAs(app, { role: 'admin' });
  let res = await client.get('/admin/neighborhoods');
  t.equal(res.statusCode, 200);
  t.match(res.body, 'href="/admin/neighborhoods/brill"');
  t.match(res.body, 'href="/admin/addresses/review"', 'links to the review list');
  res = await client.get('/admin/neighborhoods/brill');
  t.equal(res.statusCode, 200);
  t.match(res.body, /<svg[^>]+role="img"/);
  t.match(res.body, 'class="map-focus"');
  t.match(res.body, /<circle /, 'address points are drawn');
  t.match(res.body, 'class="map-neighbour"', 'neighbours are drawn');
  t.notMatch(res.body, / style="/, 'no inline style (strict CSP)');
  t.equal((await client.get('/admin/neighborhoods/nowhere')).statusCode, 404);
});

t.test('a resident gets none of the admin neighbourhood pages', async (t) => {
  const { app } = await build(t);
  const { client } = await clientAs(app, { memberships: ['brill'] });
  for (const url of ['/admin/neighborhoods', '/admin/neighborhoods/brill', '/admin/addresses/review']) t.equal((await client.get(url)).statusCode, 403, url);
  t.equal((await client.post('/admin/addresses/x1/assign', { neighborhood_id: 'x' })).statusCode, 403);
});

t.test('an address from the review list is assigned in one click, kept as manual and logged', async (t) => {
  const { app } = await eschCommune(t);
  const { client, user } = await clientAs(app, { role: 'admin' });
  const res = await client.get('/admin/addresses/review');
  t.equal(res.statusCode, 200);
  const id = /action="\/admin\/addresses\/([^/]+)\/assign"/.exec(res.body)?.[1];
  t.ok(id, 'the list offers an address');
  const brill = await app.db.selectFrom('neighborhoods').select('id').where('slug', '=', 'brill').executeTakeFirstOrThrow();
  const post = await client.post(`/admin/addresses/${id}/assign`, { neighborhood_id: brill.id });
  t.equal(post.statusCode, 303);
  const a = await app.db.selectFrom('addresses').select(['neighborhood_id', 'assigned_by', 'review']).where('id', '=', id!).executeTakeFirstOrThrow();
  t.same(a, { neighborhood_id: brill.id, assigned_by: 'manual', review: null });
  const log = await app.db.selectFrom('audit_log').selectAll().where('action', '=', 'address.assign').executeTakeFirstOrThrow();
  t.equal(log.actor_id, user.id);
  t.equal(log.subject, id);
  t.notMatch((await client.get('/admin/addresses/review')).body, `/admin/addresses/${id}/assign`, 'it left the review list');
  t.equal((await client.post(`/admin/addresses/${id}/assign`, { neighborhood_id: 'no-such' })).statusCode, 400);
});
