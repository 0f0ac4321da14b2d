// Vouching: verified members confirm that a waiting resident of their neighbourhood lives there; enough of them verify the resident.
import type { FastifyInstance } from 'fastify';
import type { DbOrTrx } from '../../db/database.ts';
import { toNumber } from '../../db/dialect.ts';
import { notFound } from '../../errors.ts';
import { audit, markVerified } from './verification.service.ts';
import { assertMethodOn } from './verification-settings.ts';
import { publicName } from '../members/public-name.ts';

export const VOUCHED = 'membership.vouched';

/** What vouching needs of the app: the database, its commit-aware transactions and the event bus. */
export type VouchDeps = Pick<FastifyInstance, 'db' | 'bus' | 'transaction'>;

export interface WaitingNeighbour {
  userId: string;
  /** first name and initial of the surname */
  name: string;
  /** the street without a house number ('' when the account has no address) */
  street: string;
  vouches: number;
  /** the reader vouched for this resident already */
  mine: boolean;
}

/** The residents of the neighbourhood still waiting for verification, as neighbours may see them (oldest first). */
export async function waitingNeighbours(db: DbOrTrx, neighborhoodId: string, readerId: string, limit = 200): Promise<WaitingNeighbour[]> {
  const rows = await db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .leftJoin('addresses', 'addresses.id', 'users.address_id')
    .select(['users.id', 'users.name', 'addresses.street'])
    .where('memberships.neighborhood_id', '=', neighborhoodId)
    .where('memberships.verified_at', 'is', null)
    .where('users.disabled_at', 'is', null)
    .where('users.id', '!=', readerId)
    .orderBy('memberships.created_at')
    .orderBy('users.id')
    .limit(limit)
    .execute();
  if (!rows.length) return [];
  const ids = rows.map((r) => r.id);
  const counts = await db
    .selectFrom('vouches')
    .select(['user_id', (eb) => eb.fn.countAll().as('n')])
    .where('neighborhood_id', '=', neighborhoodId)
    .where('user_id', 'in', ids)
    .groupBy('user_id')
    .execute();
  const mine = await db.selectFrom('vouches').select('user_id').where('neighborhood_id', '=', neighborhoodId).where('voucher_id', '=', readerId).where('user_id', 'in', ids).execute();
  const countOf = new Map(counts.map((c) => [c.user_id, toNumber(c.n)]));
  const mineSet = new Set(mine.map((m) => m.user_id));
  return rows.map((r) => ({ userId: r.id, name: publicName({ name: r.name }), street: r.street ?? '', vouches: countOf.get(r.id) ?? 0, mine: mineSet.has(r.id) }));
}

/** The vouches that still count: their voucher is still a verified member of that neighbourhood and not disabled (moved, erased, banned ones do not). */
function countingVouches(db: DbOrTrx, userId: string, neighborhoodId: string) {
  return db
    .selectFrom('vouches as v')
    .innerJoin('memberships as m', (j) => j.onRef('m.user_id', '=', 'v.voucher_id').onRef('m.neighborhood_id', '=', 'v.neighborhood_id'))
    .innerJoin('users as u', 'u.id', 'v.voucher_id')
    .where('v.user_id', '=', userId)
    .where('v.neighborhood_id', '=', neighborhoodId)
    .where('m.verified_at', 'is not', null)
    .where('u.disabled_at', 'is', null);
}

/** How many current neighbours vouched for the resident's membership so far. */
export async function vouchCount(db: DbOrTrx, userId: string, neighborhoodId: string): Promise<number> {
  const row = await countingVouches(db, userId, neighborhoodId).select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
  return toNumber(row?.n);
}

export interface VouchResult {
  /** counted: this vouch is new; already: the voucher had vouched before (nothing changed) */
  outcome: 'counted' | 'already';
  verified: boolean;
  count: number;
  needed: number;
}

/**
 * The voucher confirms that the resident lives in the neighbourhood. One vouch per voucher and resident; nobody
 * vouches for themselves; only a verified member of the same neighbourhood, for a resident still waiting there
 * (anything else: 404). Reaching the commune's threshold verifies the membership (verified_by 'vouch') and emits
 * `member.verified` after the commit.
 */
export async function vouchFor(deps: VouchDeps, input: { voucherId: string; userId: string; neighborhoodId: string; now?: number }): Promise<VouchResult> {
  const { voucherId, userId, neighborhoodId } = input;
  const now = input.now ?? Date.now();
  const { vouches: needed } = await assertMethodOn(deps.db, 'vouch');
  if (voucherId === userId) throw notFound();
  return deps.transaction(async (trx) => {
    const voucher = await trx
      .selectFrom('memberships')
      .select('verified_at')
      .where('user_id', '=', voucherId)
      .where('neighborhood_id', '=', neighborhoodId)
      .where('verified_at', 'is not', null)
      .executeTakeFirst();
    if (!voucher) throw notFound();
    const resident = await trx.selectFrom('users').select('id').where('id', '=', userId).where('disabled_at', 'is', null).executeTakeFirst();
    if (!resident) throw notFound();
    // A write to the waiting membership first: concurrent vouches for the same resident take turns (row lock on
    // PostgreSQL, the write lock on SQLite), so the one that reaches the threshold sees every vouch before it.
    const waiting = await trx
      .updateTable('memberships')
      .set((eb) => ({ role: eb.ref('role') }))
      .where('user_id', '=', userId)
      .where('neighborhood_id', '=', neighborhoodId)
      .where('verified_at', 'is', null)
      .executeTakeFirst();
    if (Number(waiting.numUpdatedRows) === 0) throw notFound();
    const before = await trx
      .selectFrom('vouches')
      .select('voucher_id')
      .where('user_id', '=', userId)
      .where('neighborhood_id', '=', neighborhoodId)
      .where('voucher_id', '=', voucherId)
      .executeTakeFirst();
    if (!before) {
      await trx
        .insertInto('vouches')
        .values({ user_id: userId, neighborhood_id: neighborhoodId, voucher_id: voucherId, created_at: now })
        .onConflict((oc) => oc.columns(['user_id', 'neighborhood_id', 'voucher_id']).doNothing())
        .execute();
      await audit(trx, voucherId, VOUCHED, userId, { neighborhood: neighborhoodId }, now);
    }
    const count = await vouchCount(trx, userId, neighborhoodId);
    let verified = false;
    if (count >= needed) {
      const vouchers = await countingVouches(trx, userId, neighborhoodId).select('v.voucher_id').orderBy('v.created_at').execute();
      verified = await markVerified(trx, deps.bus, { userId, neighborhoodId, by: 'vouch', actorId: voucherId, detail: { vouchers: vouchers.map((v) => v.voucher_id) }, now });
    }
    return { outcome: before ? ('already' as const) : ('counted' as const), verified, count, needed };
  });
}
