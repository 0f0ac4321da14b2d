// My data: everything stored about a resident as JSON in a zip, and erasing an account at its holder's request.
import type { Kysely } from 'kysely';
import yazl from 'yazl';
import type { Db, DbOrTrx, Trx } from '../../db/database.ts';
import { newId } from '../../ids.ts';
import { FORMER_NEIGHBOUR } from './public-name.ts';
import { parseLanguages } from './profiles.service.ts';

export const EXPORT_FORMAT = 'noper-my-data';
export const EXPORT_VERSION = 1;
export const ACCOUNT_ERASED = 'account.erased';
/** A password hash no password verifies against (not an argon2 string: verification fails before hashing). */
export const UNUSABLE_PASSWORD = '!erased';

/** Columns that hold secrets or their hashes never leave the server, whatever table they are in (now or added later). */
const SECRET_COLUMN = /(^|_)(hash|secret|token|password|salt|otp|totp)($|_)/i;

type Row = Record<string, unknown>;

/** A row for the export: secret-like and listed columns dropped, epoch-millisecond `*_at` times as ISO 8601 (UTC). */
function clean(row: Row | undefined, drop: string[] = []): Row | null {
  if (!row) return null;
  const out: Row = {};
  for (const [key, value] of Object.entries(row)) {
    if (drop.includes(key) || SECRET_COLUMN.test(key)) continue;
    out[key] = (key.endsWith('_at') || key === 'at') && typeof value === 'number' ? new Date(value).toISOString() : value;
  }
  return out;
}

function parseJson(text: unknown): unknown {
  if (typeof text !== 'string') return text ?? null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

async function tableColumns(db: DbOrTrx, table: string): Promise<string[] | undefined> {
  const tables = await db.introspection.getTables();
  return tables.find((t) => t.name === table)?.columns.map((c) => c.name);
}

/** A column of the vouches table naming the one who vouched (as opposed to the one vouched for). */
const GIVER_COLUMN = /voucher|giver|from|(^|_)by(_|$)|author|actor/i;

/**
 * Vouches given and received, read from whatever shape the `vouches` table has (it belongs to the verification
 * area): every column naming a user (`*_id`, `*_by`) is compared with this user's id, which is unique across tables.
 */
async function vouchesOf(db: DbOrTrx, userId: string): Promise<{ given: Row[]; received: Row[] } | undefined> {
  const columns = await tableColumns(db, 'vouches');
  if (!columns) return undefined;
  const userColumns = columns.filter((c) => (/_id$|_by$/.test(c) || c === 'voucher' || c === 'vouchee') && !/neighbo(u)?rhood|address/.test(c));
  const given: Row[] = [];
  const received: Row[] = [];
  if (!userColumns.length) return { given, received };
  // Another area's table, not in our Database type: read untyped.
  const rows: Row[] = await (db as unknown as Kysely<any>)
    .selectFrom('vouches')
    .selectAll()
    .where((eb) => eb.or(userColumns.map((c) => eb(c, '=', userId))))
    .execute();
  for (const row of rows) {
    const mine = userColumns.filter((c) => row[c] === userId);
    const cleaned = clean(row)!;
    if (mine.some((c) => GIVER_COLUMN.test(c))) given.push(cleaned);
    if (mine.some((c) => !GIVER_COLUMN.test(c))) received.push(cleaned);
  }
  return { given, received };
}

/** Tables the sections above already cover, and bookkeeping that holds nothing about anyone. */
const COVERED = new Set(['users', 'sessions', 'memberships', 'profiles', 'vouches', 'audit_log']);

/**
 * Rows of any other table with a `user_id` column (password reset requests, tables added later, plugins'
 * tables), secrets stripped: what is stored about a resident should not depend on this file knowing every table.
 */
async function otherRecords(db: DbOrTrx, userId: string): Promise<Record<string, Row[]>> {
  const out: Record<string, Row[]> = {};
  const tables = await db.introspection.getTables();
  for (const table of tables.sort((a, b) => a.name.localeCompare(b.name))) {
    if (COVERED.has(table.name) || table.name.startsWith('noper_migrations') || !table.columns.some((c) => c.name === 'user_id')) continue;
    const rows: Row[] = await (db as unknown as Kysely<any>).selectFrom(table.name).selectAll().where('user_id', '=', userId).execute();
    if (rows.length) out[table.name] = rows.map((r) => clean(r, ['user_id'])!);
  }
  return out;
}

export interface MyData {
  format: string;
  version: number;
  exported_at: string;
  account: Row | null;
  address: Row | null;
  memberships: Row[];
  sessions: Row[];
  profile: Row | null;
  vouches?: { given: Row[]; received: Row[] };
  audit_log: Row[];
  other: Record<string, Row[]>;
}

/** Everything stored about one resident. `currentSessionId` only marks which session made the export. */
export async function collectMyData(db: Db, userId: string, currentSessionId?: string, now = Date.now()): Promise<MyData> {
  const user = await db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirstOrThrow();
  const address = user.address_id
    ? await db
        .selectFrom('addresses')
        .leftJoin('neighborhoods', 'neighborhoods.id', 'addresses.neighborhood_id')
        .select([
          'addresses.id', 'addresses.street', 'addresses.number', 'addresses.postcode', 'addresses.locality', 'addresses.commune',
          'addresses.designation', 'addresses.lat', 'addresses.lon', 'addresses.retired_at', 'neighborhoods.name as neighborhood',
        ])
        .where('addresses.id', '=', user.address_id)
        .executeTakeFirst()
    : undefined;
  const memberships = await db
    .selectFrom('memberships')
    .innerJoin('neighborhoods', 'neighborhoods.id', 'memberships.neighborhood_id')
    .selectAll('memberships')
    .select(['neighborhoods.slug as neighborhood_slug', 'neighborhoods.name as neighborhood_name'])
    .where('memberships.user_id', '=', userId)
    .execute();
  const sessions = await db.selectFrom('sessions').selectAll().where('user_id', '=', userId).orderBy('created_at').execute();
  const profile = await db.selectFrom('profiles').selectAll().where('user_id', '=', userId).executeTakeFirst();
  const audit = await db
    .selectFrom('audit_log')
    .selectAll()
    .where((eb) => eb.or([eb('actor_id', '=', userId), eb('subject', '=', userId)]))
    .orderBy('at')
    .execute();
  const vouches = await vouchesOf(db, userId);
  const other = await otherRecords(db, userId);

  return {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    exported_at: new Date(now).toISOString(),
    account: clean(user as unknown as Row),
    address: clean(address as Row | undefined),
    memberships: memberships.map((m) => clean(m as unknown as Row, ['user_id'])!),
    // A session's id is half of its cookie: dates and device details only.
    sessions: sessions.map((s) => ({ ...clean(s as unknown as Row, ['id', 'user_id'])!, current: s.id === currentSessionId })),
    profile: profile ? { ...clean(profile as unknown as Row, ['user_id'])!, languages: parseLanguages(profile.languages) } : null,
    ...(vouches ? { vouches } : {}),
    audit_log: audit.map((a) => ({ ...clean(a as unknown as Row)!, detail: parseJson(a.detail) })),
    other,
  };
}

/** The zip a resident downloads: my-data.json and a README.txt in their language. */
export function exportZip(data: MyData, readme: string, now = new Date()): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  zip.addBuffer(Buffer.from(JSON.stringify(data, null, 2) + '\n', 'utf8'), 'my-data.json', { mtime: now, mode: 0o100644 });
  // CRLF: the README is read in Notepad as often as anywhere else.
  zip.addBuffer(Buffer.from(readme.replace(/\r?\n/g, '\r\n'), 'utf8'), 'README.txt', { mtime: now, mode: 0o100644 });
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}

/**
 * Erases an account inside the caller's transaction. The users row stays, so content that refers to it keeps
 * its author, shown as "former neighbour": the name becomes the marker, the e-mail a unique value that is no
 * address (so it is free to register again), the password hash one nothing verifies against. The address,
 * profile, memberships and sessions go. Returns the ended sessions' ids, whose sockets the caller closes.
 */
export async function eraseAccount(trx: Trx, userId: string, now = Date.now()): Promise<string[]> {
  const sessions = await trx.selectFrom('sessions').select('id').where('user_id', '=', userId).execute();
  await trx
    .updateTable('users')
    .set({
      name: FORMER_NEIGHBOUR,
      email: `erased:${userId}`,
      password_hash: UNUSABLE_PASSWORD,
      role: 'resident',
      lang: null,
      address_id: null,
      review_reason: null,
      // disabled_at too: every existing check (login, sessions, sockets, mails) already refuses a disabled account.
      disabled_at: now,
      deleted_at: now,
    })
    .where('id', '=', userId)
    .execute();
  await trx.deleteFrom('profiles').where('user_id', '=', userId).execute();
  await trx.deleteFrom('memberships').where('user_id', '=', userId).execute();
  await trx.deleteFrom('sessions').where('user_id', '=', userId).execute();
  // A reset link sent before the erasure must not outlive it (the table belongs to the accounts area; looked up, not assumed).
  if (await tableColumns(trx, 'password_resets')) await (trx as unknown as Kysely<any>).deleteFrom('password_resets').where('user_id', '=', userId).execute();
  await trx.insertInto('audit_log').values({ id: newId(), at: now, actor_id: userId, action: ACCOUNT_ERASED, subject: userId, detail: null }).execute();
  return sessions.map((s) => s.id);
}
