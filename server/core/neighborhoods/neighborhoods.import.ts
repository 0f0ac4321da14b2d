// Imports neighbourhood polygons from GeoJSON, computes which touch each other, and re-assigns the commune's addresses.
import slugify from 'slugify';
import type { Db, DbOrTrx } from '../../db/database.ts';
import { OperatorError } from '../../errors.ts';
import { newId } from '../../ids.ts';
import { assignAddresses, type AssignmentSummary } from './assignment.ts';
import { adjacent, bbox, isGeometry, type Geometry } from './geo.ts';

export interface NeighborhoodImportReport {
  features: number;
  created: number;
  updated: number;
  links: number;
  assignment: AssignmentSummary;
}

const NAME_GUESSES = ['name', 'NAME', 'Name', 'nom', 'NOM', 'quartier', 'QUARTIER', 'label'];

export function slugFor(name: string): string {
  return slugify(name, { lower: true, strict: true, locale: 'de', trim: true }).slice(0, 60) || 'neighbourhood';
}

interface Parsed {
  name: string;
  geometry: Geometry;
}

/** Reads a FeatureCollection (or one Feature) of Polygons/MultiPolygons; every problem is reported with the feature's number. */
export function parseNeighborhoods(text: string, nameProperty?: string): Parsed[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new OperatorError(`The file is not valid JSON: ${(err as Error).message}`, { help: 'give a GeoJSON FeatureCollection of neighbourhood polygons' });
  }
  const d = doc as { type?: string; features?: unknown[] };
  const features = d?.type === 'FeatureCollection' && Array.isArray(d.features) ? d.features : d?.type === 'Feature' ? [d] : undefined;
  if (!features) throw new OperatorError('The file is not a GeoJSON FeatureCollection', { help: 'give a GeoJSON FeatureCollection of neighbourhood polygons' });
  if (!features.length) throw new OperatorError('The file has no features', { help: 'give at least one neighbourhood polygon' });
  const problems: string[] = [];
  const out: Parsed[] = [];
  const seen = new Set<string>();
  features.forEach((f, i) => {
    const feature = f as { properties?: Record<string, unknown>; geometry?: unknown };
    const props = feature.properties ?? {};
    const key = nameProperty ?? NAME_GUESSES.find((k) => typeof props[k] === 'string' && (props[k] as string).trim());
    const name = key && typeof props[key] === 'string' ? (props[key] as string).trim() : '';
    const label = `feature ${i + 1}${name ? ` (${name})` : ''}`;
    if (!name) problems.push(`${label}: no name${nameProperty ? ` in property "${nameProperty}"` : ''}`);
    else if (name.length > 100) problems.push(`${label}: the name is longer than 100 characters`);
    else if (seen.has(name.toLowerCase())) problems.push(`${label}: the name appears twice`);
    if (!isGeometry(feature.geometry)) problems.push(`${label}: the geometry is not a Polygon or MultiPolygon with valid coordinates`);
    if (name) seen.add(name.toLowerCase());
    if (name && isGeometry(feature.geometry)) out.push({ name, geometry: feature.geometry });
  });
  if (problems.length) {
    throw new OperatorError(`${problems.length} feature${problems.length === 1 ? '' : 's'} cannot be imported; nothing was imported`, {
      context: problems.slice(0, 10).join('; '),
      help: nameProperty ? 'check --name-property and the geometries' : 'name the property that holds the names with --name-property',
    });
  }
  return out;
}

/** Recomputes the links between neighbourhoods whose polygons touch, keeping links an admin added or removed. */
export async function computeLinks(db: DbOrTrx): Promise<number> {
  const areas = (await db.selectFrom('neighborhoods').select(['id', 'geometry']).where('geometry', 'is not', null).execute()).map((r) => ({
    id: r.id,
    geometry: JSON.parse(r.geometry!) as Geometry,
  }));
  const manual = await db.selectFrom('neighborhood_links').selectAll().where('kind', '!=', 'computed').execute();
  const manualKey = new Set(manual.map((l) => `${l.a_id}|${l.b_id}`));
  await db.deleteFrom('neighborhood_links').where('kind', '=', 'computed').execute();
  const links: Array<{ a_id: string; b_id: string; kind: 'computed' }> = [];
  for (let i = 0; i < areas.length; i++) {
    for (let j = i + 1; j < areas.length; j++) {
      const [a, b] = [areas[i]!, areas[j]!].sort((x, y) => (x.id < y.id ? -1 : 1)) as [typeof areas[0], typeof areas[0]];
      if (manualKey.has(`${a.id}|${b.id}`)) continue;
      if (adjacent(a.geometry, b.geometry)) links.push({ a_id: a.id, b_id: b.id, kind: 'computed' });
    }
  }
  for (let i = 0; i < links.length; i += 500) await db.insertInto('neighborhood_links').values(links.slice(i, i + 500)).execute();
  return links.length + manual.filter((l) => l.kind === 'added').length;
}

/** Creates or updates (matched by the name in the file, then by slug) one neighbourhood per feature, in one transaction. */
export async function importNeighborhoods(db: Db, text: string, nameProperty?: string): Promise<NeighborhoodImportReport> {
  const parsed = parseNeighborhoods(text, nameProperty);
  const now = Date.now();
  return db.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom('neighborhoods').select(['id', 'slug', 'source_name']).execute();
    const bySource = new Map(existing.filter((e) => e.source_name).map((e) => [e.source_name!, e]));
    const bySlug = new Map(existing.map((e) => [e.slug, e]));
    const taken = new Set(existing.map((e) => e.slug));
    let created = 0;
    let updated = 0;
    for (const p of parsed) {
      const geometry = JSON.stringify(p.geometry);
      const box = JSON.stringify(bbox(p.geometry));
      const base = slugFor(p.name);
      const match = bySource.get(p.name) ?? bySlug.get(base);
      if (match) {
        await trx.updateTable('neighborhoods').set({ name: p.name, geometry, bbox: box, source_name: p.name }).where('id', '=', match.id).execute();
        updated++;
        continue;
      }
      let slug = base;
      for (let n = 2; taken.has(slug); n++) slug = `${base}-${n}`;
      taken.add(slug);
      await trx.insertInto('neighborhoods').values({ id: newId(), slug, name: p.name, created_at: now, geometry, bbox: box, source_name: p.name, rules: null }).execute();
      created++;
    }
    const links = await computeLinks(trx);
    const assignment = await assignAddresses(trx);
    return { features: parsed.length, created, updated, links, assignment };
  });
}
