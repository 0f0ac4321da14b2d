// One-time household codes for the verification letters: issued per neighbourhood, stored only as an HMAC, redeemed atomically.
import { createHmac, randomInt } from 'node:crypto';
import type { Address, DbOrTrx } from '../../db/database.ts';
import { newId } from '../../ids.ts';
import { getOrCreateSecret } from '../settings/settings.repository.ts';

/** No 0/O, 1/I/L: a code read off paper and typed again has no look-alike characters. */
export const CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
export const CODE_LENGTH = 12;
export const DEFAULT_MAX_USES = 2;
export const DEFAULT_VALIDITY_DAYS = 90;

const DAY = 86_400_000;
/** Rows per INSERT: well under SQLite's and PostgreSQL's bound-parameter limits. */
const BATCH = 500;

/** A fresh random code in its bare form (12 characters, ~59 bits). */
export function generateCode(): string {
  let code = '';
  for (let i = 0; i < CODE_LENGTH; i++) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return code;
}

/** `ABCD2345EFGH` -> `ABCD-2345-EFGH`, as printed on the letter. */
export function formatCode(code: string): string {
  return code.match(/.{1,4}/g)!.join('-');
}

/** What a person typed, in bare form: case, spaces and dashes ignored; undefined when it cannot be a code. */
export function normalizeCode(input: unknown): string | undefined {
  if (typeof input !== 'string' || input.length > 64) return undefined;
  const bare = input.toUpperCase().replace(/[\s\-‐‑‒–—]+/g, '');
  if (bare.length !== CODE_LENGTH) return undefined;
  for (const c of bare) if (!CODE_ALPHABET.includes(c)) return undefined;
  return bare;
}

/** The stored form: HMAC-SHA256 with the server's letters secret, so a copy of the database does not yield usable codes. */
export function hashCode(secret: string, bareCode: string): string {
  return createHmac('sha256', secret).update(bareCode).digest('hex');
}

export interface IssueOptions {
  neighborhoodId: string;
  /** adults of the household who may use the code (default 2) */
  maxUses?: number;
  /** days until the code expires (default 90) */
  validityDays?: number;
  now?: number;
}

export interface IssuedLetter {
  address: Address;
  /** the plain code, formatted `XXXX-XXXX-XXXX`: the only moment it exists outside the letter */
  code: string;
  expiresAt: number;
  maxUses: number;
}

/**
 * One fresh code per current address of the neighbourhood; earlier codes of those addresses that could still be
 * redeemed are revoked, so only the newest letter works. One transaction: all letters or none.
 */
export async function issueCodes(db: DbOrTrx, opts: IssueOptions): Promise<IssuedLetter[]> {
  const maxUses = opts.maxUses ?? DEFAULT_MAX_USES;
  const validityDays = opts.validityDays ?? DEFAULT_VALIDITY_DAYS;
  if (!Number.isInteger(maxUses) || maxUses < 1) throw new RangeError('maxUses must be a whole number of at least 1');
  if (!Number.isInteger(validityDays) || validityDays < 1) throw new RangeError('validityDays must be a whole number of at least 1');
  const now = opts.now ?? Date.now();
  const expiresAt = now + validityDays * DAY;
  // Read before the transaction: on SQLite the transaction holds the only connection.
  const secret = await getOrCreateSecret(db, 'letters');

  const run = async (trx: DbOrTrx): Promise<IssuedLetter[]> => {
    const addresses = await trx
      .selectFrom('addresses')
      .selectAll()
      .where('neighborhood_id', '=', opts.neighborhoodId)
      .where('retired_at', 'is', null)
      .orderBy('street')
      .orderBy('number_sort')
      .orderBy('number')
      .orderBy('id')
      .execute();
    await trx
      .updateTable('letter_codes')
      .set({ revoked_at: now })
      .where('revoked_at', 'is', null)
      .where('address_id', 'in', (eb) =>
        eb.selectFrom('addresses').select('id').where('neighborhood_id', '=', opts.neighborhoodId).where('retired_at', 'is', null),
      )
      .execute();
    const letters: IssuedLetter[] = [];
    const rows = addresses.map((address) => {
      const bare = generateCode();
      letters.push({ address, code: formatCode(bare), expiresAt, maxUses });
      return { id: newId(), address_id: address.id, code_hash: hashCode(secret, bare), max_uses: maxUses, uses: 0, expires_at: expiresAt, revoked_at: null, created_at: now };
    });
    for (let i = 0; i < rows.length; i += BATCH) await trx.insertInto('letter_codes').values(rows.slice(i, i + BATCH)).execute();
    return letters;
  };
  return db.isTransaction ? run(db) : db.transaction().execute(run);
}

/**
 * Uses the code once for this address. True only when the code belongs to THIS address, is neither expired nor
 * revoked, and has uses left; every other case is the same false. The count is checked and raised in one
 * UPDATE, so concurrent redemptions can never exceed max_uses.
 */
export async function redeemCode(db: DbOrTrx, addressId: string, code: unknown, now = Date.now()): Promise<boolean> {
  const bare = normalizeCode(code);
  const secret = await getOrCreateSecret(db, 'letters');
  // A malformed code still costs one HMAC and one query, like a wrong one.
  const hash = hashCode(secret, bare ?? '-');
  const res = await db
    .updateTable('letter_codes')
    .set((eb) => ({ uses: eb('uses', '+', 1) }))
    .where('code_hash', '=', hash)
    .where('address_id', '=', addressId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .where((eb) => eb('uses', '<', eb.ref('max_uses')))
    .executeTakeFirst();
  return bare !== undefined && Number(res.numUpdatedRows) === 1;
}
