// Puts each address in its neighbourhood: by its point when it has one, else by the neighbourhoods' rules; never silently to a wrong place.
import type { DbOrTrx } from '../../db/database.ts';
import { toNumber } from '../../db/dialect.ts';
import { searchKey } from '../addresses/normalize.ts';
import { bbox, containsPoint, inBBox, type BBox, type Geometry } from './geo.ts';

/** For registers without coordinates: which addresses a neighbourhood holds, by list, street, postcode or locality. */
export interface NeighborhoodRules {
  addresses?: string[];
  streets?: Array<{ street: string; locality?: string; postcode?: string }>;
  postcodes?: string[];
  localities?: string[];
}

export interface AssignmentSummary {
  /** current addresses in the register */
  total: number;
  perNeighborhood: Array<{ slug: string; name: string; addresses: number }>;
  unassigned: number;
  ambiguous: number;
}

interface Area {
  id: string;
  geometry: Geometry | undefined;
  box: BBox | undefined;
  rules: NeighborhoodRules;
}

interface Decision {
  neighborhood_id: string | null;
  assigned_by: 'point' | 'rule' | null;
  review: 'unassigned' | 'ambiguous' | null;
  candidates: string | null;
}

async function loadAreas(db: DbOrTrx): Promise<Area[]> {
  const rows = await db.selectFrom('neighborhoods').select(['id', 'geometry', 'bbox', 'rules']).execute();
  return rows.map((r) => {
    const geometry = r.geometry ? (JSON.parse(r.geometry) as Geometry) : undefined;
    return { id: r.id, geometry, box: r.bbox ? (JSON.parse(r.bbox) as BBox) : geometry ? bbox(geometry) : undefined, rules: r.rules ? (JSON.parse(r.rules) as NeighborhoodRules) : {} };
  });
}

type AddressFacts = { id: string; lon: number | null; lat: number | null; street: string; postcode: string; locality: string };

/** The most specific rule that matches wins: an explicit address, then a street, a postcode, a locality. */
function byRules(a: AddressFacts, areas: Area[]): string[] {
  const street = searchKey(a.street);
  const locality = searchKey(a.locality);
  const tiers: Array<(r: NeighborhoodRules) => boolean> = [
    (r) => !!r.addresses?.includes(a.id),
    (r) => !!r.streets?.some((s) => searchKey(s.street) === street && (!s.locality || searchKey(s.locality) === locality) && (!s.postcode || s.postcode === a.postcode)),
    (r) => !!r.postcodes?.includes(a.postcode),
    (r) => !!r.localities?.some((l) => searchKey(l) === locality),
  ];
  for (const tier of tiers) {
    const hits = areas.filter((area) => tier(area.rules)).map((area) => area.id);
    if (hits.length) return hits;
  }
  return [];
}

export function decide(a: AddressFacts, areas: Area[]): Decision {
  let hits: string[] = [];
  let by: 'point' | 'rule' = 'point';
  if (a.lon !== null && a.lat !== null) {
    const { lon, lat } = a as { lon: number; lat: number };
    hits = areas.filter((area) => area.geometry && area.box && inBBox(area.box, lon, lat) && containsPoint(area.geometry, lon, lat)).map((x) => x.id);
  }
  if (!hits.length) {
    hits = byRules(a, areas);
    by = 'rule';
  }
  if (hits.length === 1) return { neighborhood_id: hits[0]!, assigned_by: by, review: null, candidates: null };
  if (hits.length > 1) return { neighborhood_id: null, assigned_by: null, review: 'ambiguous', candidates: JSON.stringify(hits.sort()) };
  return { neighborhood_id: null, assigned_by: null, review: 'unassigned', candidates: null };
}

/**
 * Re-assigns the given addresses (all current ones when ids is undefined); manual assignments by an admin are kept.
 * Residents of an address whose neighbourhood changes are flagged for review. Returns the commune-wide summary.
 */
export async function assignAddresses(db: DbOrTrx, ids?: string[]): Promise<AssignmentSummary> {
  const areas = await loadAreas(db);
  const load = async (part?: string[]) => {
    let q = db
      .selectFrom('addresses')
      .select(['id', 'lon', 'lat', 'street', 'postcode', 'locality', 'neighborhood_id', 'assigned_by', 'review', 'candidates'])
      .where('retired_at', 'is', null)
      .where((eb) => eb.or([eb('assigned_by', 'is', null), eb('assigned_by', '!=', 'manual')]));
    if (part) q = q.where('id', 'in', part);
    return q.execute();
  };
  const rows = ids ? (await Promise.all(chunk(ids).map((p) => load(p)))).flat() : await load();
  const groups = new Map<string, { decision: Decision; ids: string[] }>();
  const movedIds: string[] = [];
  for (const a of rows) {
    const d = decide(a, areas);
    if (a.neighborhood_id === d.neighborhood_id && a.assigned_by === d.assigned_by && a.review === d.review && a.candidates === d.candidates) continue;
    if (a.neighborhood_id !== null && a.neighborhood_id !== d.neighborhood_id) movedIds.push(a.id);
    const key = JSON.stringify(d);
    const g = groups.get(key) ?? { decision: d, ids: [] };
    g.ids.push(a.id);
    groups.set(key, g);
  }
  const now = Date.now();
  for (const { decision, ids: groupIds } of groups.values()) {
    for (const part of chunk(groupIds)) await db.updateTable('addresses').set({ ...decision, updated_at: now }).where('id', 'in', part).execute();
  }
  for (const part of chunk(movedIds)) await db.updateTable('users').set({ review_reason: 'neighborhood_changed' }).where('address_id', 'in', part).execute();
  return summarize(db);
}

export async function summarize(db: DbOrTrx): Promise<AssignmentSummary> {
  const counts = await db
    .selectFrom('neighborhoods')
    .leftJoin('addresses', (j) => j.onRef('addresses.neighborhood_id', '=', 'neighborhoods.id').on('addresses.retired_at', 'is', null))
    .select(['neighborhoods.slug', 'neighborhoods.name', (eb) => eb.fn.count('addresses.id').as('n')])
    .groupBy(['neighborhoods.id', 'neighborhoods.slug', 'neighborhoods.name'])
    .orderBy('neighborhoods.name')
    .execute();
  const review = await db
    .selectFrom('addresses')
    .select(['review', (eb) => eb.fn.countAll().as('n')])
    .where('retired_at', 'is', null)
    .groupBy('review')
    .execute();
  const by = (k: string | null) => toNumber(review.find((r) => r.review === k)?.n);
  return {
    total: review.reduce((s, r) => s + toNumber(r.n), 0),
    perNeighborhood: counts.map((c) => ({ slug: c.slug, name: c.name, addresses: toNumber(c.n) })),
    unassigned: by('unassigned'),
    ambiguous: by('ambiguous'),
  };
}

function chunk<T>(list: T[], size = 500): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}
