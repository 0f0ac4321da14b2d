// The commune's data: the address register (national export or generic CSV) and neighbourhood polygons, imported, updated and assigned.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { build, createUser } from '../helpers/app.ts';
import { ROOT } from '../../server/paths.ts';
import { AddressImportError, detectFormat, importAddresses } from '../../server/core/addresses/addresses.import.ts';
import { importNeighborhoods, parseNeighborhoods } from '../../server/core/neighborhoods/neighborhoods.import.ts';
import { assignAddresses } from '../../server/core/neighborhoods/assignment.ts';
import { adjacent, type Geometry } from '../../server/core/neighborhoods/geo.ts';
import { listNeighborhoods } from '../../server/core/neighborhoods/neighborhoods.repository.ts';
import { OperatorError } from '../../server/errors.ts';

const DATA = path.join(ROOT, '..', 'shared', 'data');
const ESCH_CSV = path.join(DATA, 'caclr-addresses', 'caclr_addresses_esch-sur-alzette.csv');
const ESCH_QUARTIERS = path.join(DATA, 'lux-quartiers', 'quartiers_esch-sur-alzette.geojson');

const square = (x: number, y: number, size = 0.001): Geometry => ({
  type: 'Polygon',
  coordinates: [[[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]],
});
const collection = (features: Array<{ name: string; geometry: Geometry }>) =>
  JSON.stringify({ type: 'FeatureCollection', features: features.map((f) => ({ type: 'Feature', properties: { name: f.name }, geometry: f.geometry })) });

const GENERIC = [
  'street,number,postcode,locality,lat,lon',
  "Rue de l'Église,8A,L-4131,Esch-sur-Alzette,49.5005,6.0005",
  'Rue de la Paix,12-14,4131,Esch-sur-Alzette,49.5005,6.0015',
  'Maison,,4132,Lallange,,',
  '"Rue ""Neie"", Wee",3,4133,Esch-sur-Alzette,49.5015,6.0005',
].join('\n');

t.test('the header tells the national export from the generic form', async (t) => {
  t.equal(detectFormat('id_caclr_bat,numero,rue,id_caclr_rue,code_postal,localite,commune'.split(',')), 'caclr');
  t.equal(detectFormat('street,number,postcode,locality,lat,lon'.split(',')), 'generic');
  t.equal(detectFormat(['a', 'b']), undefined);
});

t.test('a generic register keeps its quirks: 8A, 12-14, L-4131, no number, no coordinates, quotes and commas', async (t) => {
  const { app } = await build(t);
  const r = await importAddresses(app.db, GENERIC);
  t.equal(r.read, 4);
  t.equal(r.inserted, 4);
  t.equal(r.withoutNumber, 1);
  t.equal(r.withoutPoint, 1);
  const rows = (await app.db.selectFrom('addresses').selectAll().execute()).sort((a, b) => (a.street < b.street ? -1 : 1));
  t.same(rows.map((a) => [a.street, a.number, a.postcode]), [
    ['Maison', '', '4132'],
    ['Rue "Neie", Wee', '3', '4133'],
    ["Rue de l'Église", '8A', '4131'],
    ['Rue de la Paix', '12-14', '4131'],
  ]);
  t.equal(rows.find((a) => a.street === 'Maison')!.lon, null);
  t.equal(rows.find((a) => a.number === '8A')!.point_kind, 'exact');
});

t.test('unreadable lines are reported with their numbers and nothing is imported', async (t) => {
  const { app } = await build(t);
  const bad = [GENERIC, ',5,4131,Esch,,', 'Rue X,1,99999,Esch,,', 'Rue Y,2,4131,Esch,49.5,', "Rue de l'Église,8A,4131,Esch-sur-Alzette,49.5005,6.0005"].join('\n');
  const err = await importAddresses(app.db, bad).catch((e: unknown) => e);
  t.ok(err instanceof AddressImportError);
  const lines = (err as AddressImportError).errors.map((e) => e.line);
  t.same(lines, [6, 7, 8, 9]);
  t.match((err as AddressImportError).errors[3]!.message, /same address as line 2/);
  t.equal((await app.db.selectFrom('addresses').select('id').execute()).length, 0, 'nothing half-imported');
});

t.test('a wrong file gives one clear error: not CSV of the register, not GeoJSON', async (t) => {
  const { app } = await build(t);
  await t.rejects(importAddresses(app.db, 'name,phone\nAnna,123'), OperatorError);
  await t.rejects(importAddresses(app.db, ''), OperatorError);
  t.throws(() => parseNeighborhoods('{"type":"Point"}'), OperatorError);
  t.throws(() => parseNeighborhoods('not json'), OperatorError);
  const err = (() => {
    try {
      parseNeighborhoods(collection([{ name: 'A', geometry: { type: 'Polygon', coordinates: [[[0, 0]]] } as Geometry }]));
    } catch (e) {
      return e as OperatorError;
    }
  })();
  t.match(err?.oneLine(), /feature 1 \(A\): the geometry is not a Polygon/);
});

t.test('re-importing a newer register updates changes, retires vanished addresses and flags their residents, and brings back returning ones', async (t) => {
  const { app } = await build(t);
  await importAddresses(app.db, GENERIC);
  const paix = await app.db.selectFrom('addresses').selectAll().where('street', '=', 'Rue de la Paix').executeTakeFirstOrThrow();
  const user = await createUser(app);
  await app.db.updateTable('users').set({ address_id: paix.id }).where('id', '=', user.id).execute();
  const newer = GENERIC.split('\n').filter((l) => !l.startsWith('Rue de la Paix')).map((l) => l.replace('Maison,,4132', 'Maison,,4133')).join('\n');
  const r = await importAddresses(app.db, newer);
  t.equal(r.retired, 2, 'Rue de la Paix, and Maison under its old postcode');
  t.equal(r.flaggedResidents, 1);
  // The generic form identifies an address by its text: a changed postcode is a new address and the old one retires.
  t.equal(r.inserted, 1);
  const u = await app.db.selectFrom('users').select(['address_id', 'review_reason']).where('id', '=', user.id).executeTakeFirstOrThrow();
  t.same(u, { address_id: paix.id, review_reason: 'address_retired' }, 'the account keeps its address and is flagged');
  const again = await importAddresses(app.db, GENERIC);
  t.equal(again.restored, 2, 'Rue de la Paix and the old Maison come back');
  const p = await app.db.selectFrom('addresses').select('retired_at').where('id', '=', paix.id).executeTakeFirstOrThrow();
  t.equal(p.retired_at, null);
});

t.test('addresses go to the polygon holding their point, else by rules; overlaps and gaps go to the review list', async (t) => {
  const { app } = await build(t);
  await importAddresses(app.db, GENERIC);
  // West holds 8A; East and Overlap both hold 12-14; nothing holds "Rue Neie Wee" (north) nor Maison (no point).
  const r = await importNeighborhoods(app.db, collection([
    { name: 'West', geometry: square(6.0, 49.5) },
    { name: 'East', geometry: square(6.001, 49.5) },
    { name: 'Overlap', geometry: square(6.0012, 49.5002, 0.0005) },
  ]));
  t.equal(r.created, 3);
  const get = async (street: string) => app.db.selectFrom('addresses').select(['neighborhood_id', 'assigned_by', 'review', 'candidates']).where('street', '=', street).executeTakeFirstOrThrow();
  const ns = new Map((await app.db.selectFrom('neighborhoods').select(['id', 'slug']).execute()).map((n) => [n.slug, n.id]));
  t.same(await get("Rue de l'Église"), { neighborhood_id: ns.get('west'), assigned_by: 'point', review: null, candidates: null });
  const paix = await get('Rue de la Paix');
  t.equal(paix.review, 'ambiguous');
  t.equal(paix.neighborhood_id, null, 'never silently put in one of the two');
  t.same(JSON.parse(paix.candidates!), [ns.get('east'), ns.get('overlap')].sort());
  t.equal((await get('Maison')).review, 'unassigned');
  t.same(r.assignment.unassigned, 2);
  t.same(r.assignment.ambiguous, 1);
  // A rule for the locality places the address without coordinates.
  await app.db.updateTable('neighborhoods').set({ rules: JSON.stringify({ localities: ['lallange'] }) }).where('slug', '=', 'west').execute();
  const s = await assignAddresses(app.db);
  t.same(await get('Maison'), { neighborhood_id: ns.get('west'), assigned_by: 'rule', review: null, candidates: null });
  t.equal(s.unassigned, 1);
});

t.test('an admin assignment survives re-assignment', async (t) => {
  const { app } = await build(t);
  await importAddresses(app.db, GENERIC);
  await importNeighborhoods(app.db, collection([{ name: 'West', geometry: square(6.0, 49.5) }, { name: 'East', geometry: square(6.001, 49.5) }]));
  const east = await app.db.selectFrom('neighborhoods').select('id').where('slug', '=', 'east').executeTakeFirstOrThrow();
  await app.db.updateTable('addresses').set({ neighborhood_id: east.id, assigned_by: 'manual', review: null }).where('street', '=', "Rue de l'Église").execute();
  await assignAddresses(app.db);
  const a = await app.db.selectFrom('addresses').select(['neighborhood_id', 'assigned_by']).where('street', '=', "Rue de l'Église").executeTakeFirstOrThrow();
  t.same(a, { neighborhood_id: east.id, assigned_by: 'manual' });
});

t.test('touching polygons are neighbours, distant ones are not, and small gaps of rough data still count', async (t) => {
  t.ok(adjacent(square(6.0, 49.5, 0.01), square(6.01, 49.5, 0.01)), 'sharing an edge');
  t.ok(adjacent(square(6.0, 49.5, 0.01), square(6.0101, 49.5, 0.01)), 'a 7 m gap');
  t.notOk(adjacent(square(6.0, 49.5, 0.01), square(6.02, 49.5, 0.01)), '700 m apart');
});

t.test("the real Esch-sur-Alzette data imports end to end: 21 quartiers, 9,057 addresses, every one assigned or in review", async (t) => {
  const { app } = await build(t);
  const n = await importNeighborhoods(app.db, fs.readFileSync(ESCH_QUARTIERS, 'utf8'), 'NAME');
  t.equal(n.created, 21);
  t.ok(n.links > 20, `${n.links} adjacent pairs`);
  const r = await importAddresses(app.db, fs.readFileSync(ESCH_CSV, 'utf8'));
  t.equal(r.read, 9057);
  t.equal(r.withoutNumber, 311);
  t.equal(r.withoutPoint, 254);
  const assigned = r.assignment.perNeighborhood.reduce((s, x) => s + x.addresses, 0);
  t.equal(assigned + r.assignment.unassigned + r.assignment.ambiguous, 9057, 'every address is assigned or waits for review');
  t.ok(assigned > 8000, `${assigned} assigned by their point`);
  const list = await listNeighborhoods(app.db);
  t.equal(list.length, 21);
  t.ok(list.find((x) => x.slug === 'dellheicht'), 'slugs without accents');
  const again = await importAddresses(app.db, fs.readFileSync(ESCH_CSV, 'utf8'));
  t.equal(again.unchanged, 9057, 'a second import of the same file changes nothing');
});
