// Imports an address register (Luxembourg's CACLR export or a generic CSV) in one transaction: inserts, updates, retires, reports.
import { parse } from 'csv-parse/sync';
import type { Db, NewAddress, Trx } from '../../db/database.ts';
import { newId } from '../../ids.ts';
import { OperatorError } from '../../errors.ts';
import { assignAddresses, type AssignmentSummary } from '../neighborhoods/assignment.ts';
import { normalizePostcode, numberSortKey, searchKey } from './normalize.ts';

export type RegisterFormat = 'caclr' | 'generic';

export interface LineError {
  line: number;
  message: string;
}

export interface AddressImportReport {
  format: RegisterFormat;
  read: number;
  inserted: number;
  updated: number;
  unchanged: number;
  retired: number;
  restored: number;
  withoutNumber: number;
  withoutPoint: number;
  /** residents whose address vanished from the register: flagged for an admin to review */
  flaggedResidents: number;
  assignment: AssignmentSummary;
}

export class AddressImportError extends OperatorError {
  constructor(readonly errors: LineError[], total: number) {
    super(`${total} line${total === 1 ? '' : 's'} of the register cannot be read; nothing was imported`, {
      context: errors.slice(0, 10).map((e) => `line ${e.line}: ${e.message}`).join('; '),
      help: 'correct these lines (or remove them) and import the file again',
    });
  }
}

const CACLR_COLUMNS = ['id_caclr_bat', 'numero', 'rue', 'code_postal', 'localite'];
const GENERIC_COLUMNS = ['street', 'number', 'postcode', 'locality', 'lat', 'lon'];

type Row = Omit<NewAddress, 'id' | 'neighborhood_id' | 'assigned_by' | 'review' | 'candidates' | 'retired_at' | 'created_at' | 'updated_at'>;

export function detectFormat(header: string[]): RegisterFormat | undefined {
  const h = header.map((c) => c.trim().toLowerCase());
  if (CACLR_COLUMNS.every((c) => h.includes(c))) return 'caclr';
  if (GENERIC_COLUMNS.every((c) => h.includes(c))) return 'generic';
  return undefined;
}

function coordinate(raw: string | undefined, min: number, max: number): number | null | 'bad' {
  const v = (raw ?? '').trim();
  if (!v) return null;
  const n = Number(v.replace(',', '.'));
  if (!Number.isFinite(n) || n < min || n > max) return 'bad';
  return n;
}

/** Parses the file into address rows, collecting every unreadable line instead of stopping at the first. */
export function parseRegister(text: string): { format: RegisterFormat; rows: Row[]; errors: LineError[] } {
  const content = text.replace(/^\uFEFF/, '');
  let records: string[][];
  try {
    records = parse(content, { relax_column_count: true, skip_empty_lines: true, trim: false }) as string[][];
  } catch (err) {
    const e = err as { lines?: number; message: string };
    throw new OperatorError(`The file is not valid CSV${e.lines ? ` (line ${e.lines})` : ''}: ${e.message.split('\n')[0]}`, { help: 'save it as UTF-8 CSV with a header row' });
  }
  const header = records[0];
  if (!header) throw new OperatorError('The file is empty', { help: 'export the address register as CSV with a header row' });
  const format = detectFormat(header);
  if (!format) {
    throw new OperatorError('The header is neither the national register export nor the generic form', {
      context: `found: ${header.slice(0, 8).join(',')}`,
      help: `use the CACLR export (id_caclr_bat,numero,rue,code_postal,localite,...) or ${GENERIC_COLUMNS.join(',')}`,
    });
  }
  const col = new Map(header.map((c, i) => [c.trim().toLowerCase(), i]));
  const get = (r: string[], name: string) => (col.has(name) ? (r[col.get(name)!] ?? '').trim() : '');
  const rows: Row[] = [];
  const errors: LineError[] = [];
  const seen = new Map<string, number>();
  for (let i = 1; i < records.length; i++) {
    const r = records[i]!;
    const line = i + 1;
    const problems: string[] = [];
    const street = format === 'caclr' ? get(r, 'rue') : get(r, 'street');
    const number = (format === 'caclr' ? get(r, 'numero') : get(r, 'number')).replace(/\s+/g, ' ');
    const postcodeRaw = format === 'caclr' ? get(r, 'code_postal') : get(r, 'postcode');
    const locality = format === 'caclr' ? get(r, 'localite') : get(r, 'locality');
    // The register has addresses without a postcode (new buildings): kept, shown without one.
    const postcode = postcodeRaw === '' ? '' : normalizePostcode(postcodeRaw);
    if (!street) problems.push('the street is empty');
    if (!locality) problems.push('the locality is empty');
    if (postcode === undefined) problems.push(`"${postcodeRaw}" is not a postcode (4 digits, L- allowed)`);
    if (street.length > 200 || number.length > 20 || locality.length > 100) problems.push('a field is too long');
    const lon = coordinate(format === 'caclr' ? get(r, 'approx_lon') : get(r, 'lon'), -180, 180);
    const lat = coordinate(format === 'caclr' ? get(r, 'approx_lat') : get(r, 'lat'), -90, 90);
    if (lon === 'bad' || lat === 'bad') problems.push('the coordinates are not numbers in range');
    else if ((lon === null) !== (lat === null)) problems.push('only one of the two coordinates is given');
    let externalId = '';
    if (format === 'caclr') {
      externalId = get(r, 'id_caclr_bat');
      if (!/^\d+$/.test(externalId)) problems.push(`"${externalId}" is not a register id`);
    } else {
      externalId = [searchKey(street), searchKey(number), postcode, searchKey(locality)].join('|');
    }
    if (!problems.length) {
      const first = seen.get(externalId);
      if (first) problems.push(`the same address as line ${first}`);
      else seen.set(externalId, line);
    }
    if (problems.length) {
      errors.push({ line, message: problems.join(', ') });
      continue;
    }
    const hasPoint = typeof lon === 'number' && typeof lat === 'number';
    const designation = format === 'caclr' ? get(r, 'designation') || null : null;
    const commune = format === 'caclr' ? get(r, 'commune') || null : null;
    rows.push({
      source: format,
      external_id: externalId,
      street,
      number,
      number_sort: numberSortKey(number),
      postcode: postcode!,
      locality,
      commune,
      designation,
      lon: hasPoint ? (lon as number) : null,
      lat: hasPoint ? (lat as number) : null,
      // The national export carries postcode centroids, not real points.
      point_kind: hasPoint ? (format === 'caclr' ? 'approximate' : 'exact') : null,
      search_key: searchKey([street, number, postcode, locality, designation ?? ''].join(' ')),
    });
  }
  return { format, rows, errors };
}

const FIELDS = ['street', 'number', 'number_sort', 'postcode', 'locality', 'commune', 'designation', 'lon', 'lat', 'point_kind', 'search_key'] as const;
const CHUNK = 500;

function chunks<T>(list: T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/** Imports the register text: one transaction; then every address that moved or is new is (re)assigned to its neighbourhood. */
export async function importAddresses(db: Db, text: string): Promise<AddressImportReport> {
  const { format, rows, errors } = parseRegister(text);
  if (errors.length) throw new AddressImportError(errors, errors.length);
  const now = Date.now();
  return db.transaction().execute(async (trx) => {
    const existing = new Map(
      (await trx.selectFrom('addresses').selectAll().where('source', '=', format).execute()).map((a) => [a.external_id, a]),
    );
    const report: Omit<AddressImportReport, 'assignment'> = {
      format, read: rows.length, inserted: 0, updated: 0, unchanged: 0, retired: 0, restored: 0,
      withoutNumber: rows.filter((r) => !r.number).length, withoutPoint: rows.filter((r) => r.lon === null).length, flaggedResidents: 0,
    };
    const inserts: NewAddress[] = [];
    const toAssign: string[] = [];
    for (const row of rows) {
      const old = existing.get(row.external_id);
      if (!old) {
        const id = newId();
        inserts.push({ ...row, id, neighborhood_id: null, assigned_by: null, review: null, candidates: null, retired_at: null, created_at: now, updated_at: now });
        toAssign.push(id);
        continue;
      }
      existing.delete(row.external_id);
      const changed = FIELDS.some((f) => (old[f] ?? null) !== (row[f] ?? null));
      if (old.retired_at !== null) report.restored++;
      if (!changed && old.retired_at === null) {
        report.unchanged++;
        continue;
      }
      if (changed) report.updated++;
      await trx.updateTable('addresses').set({ ...pick(row), retired_at: null, updated_at: now }).where('id', '=', old.id).execute();
      const moved = old.lon !== row.lon || old.lat !== row.lat || old.postcode !== row.postcode || old.street !== row.street || old.locality !== row.locality;
      if (moved || old.retired_at !== null) toAssign.push(old.id);
    }
    for (const part of chunks(inserts)) await trx.insertInto('addresses').values(part).execute();
    report.inserted = inserts.length;
    // What the new register no longer has is retired, never deleted: accounts keep their address and an admin reviews them.
    const vanished = [...existing.values()].filter((a) => a.retired_at === null).map((a) => a.id);
    for (const part of chunks(vanished)) {
      await trx.updateTable('addresses').set({ retired_at: now, updated_at: now }).where('id', 'in', part).execute();
      const flagged = await trx.updateTable('users').set({ review_reason: 'address_retired' }).where('address_id', 'in', part).executeTakeFirst();
      report.flaggedResidents += Number(flagged.numUpdatedRows ?? 0);
    }
    report.retired = vanished.length;
    const assignment = await assignAddresses(trx, toAssign);
    return { ...report, assignment };
  });
}

function pick(row: Row) {
  const out: Record<string, unknown> = {};
  for (const f of FIELDS) out[f] = row[f] ?? null;
  return out as Pick<Row, (typeof FIELDS)[number]>;
}

export type { Trx };
