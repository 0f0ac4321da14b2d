// Verifying a resident's membership with the code from their letter, and what the status page of a waiting resident shows.
import type { Address, Db, DbOrTrx, Trx, User } from '../../db/database.ts';
import type { EventBus } from '../../features/events.ts';
import { sql } from 'kysely';
import { newId } from '../../ids.ts';
import { redeemCode } from './letter-codes.service.ts';
import { assertMethodOn } from './verification-settings.ts';

const DAY = 86_400_000;
/** Wrong codes one account may enter per day before code entry pauses (the per-IP limit alone would let a botnet try on). */
export const CODE_ATTEMPTS_PER_DAY = 10;

export const CODE_REJECTED = 'letter_code.rejected';
export const MEMBER_VERIFIED = 'membership.verified';

export async function audit(db: DbOrTrx, actorId: string, action: string, subject: string | null, detail: object | null, now: number): Promise<void> {
  await db.insertInto('audit_log').values({ id: newId(), at: now, actor_id: actorId, action, subject, detail: detail ? JSON.stringify(detail) : null }).execute();
}

export type VerifiedBy = 'letter' | 'vouch' | 'counter';

export interface MarkVerified {
  userId: string;
  neighborhoodId: string;
  by: VerifiedBy;
  /** who verified: the resident (letter), the last voucher, the admin or moderator at the counter */
  actorId: string;
  /** the counter's note (kept on the membership and in the audit log) */
  note?: string;
  /** more for the audit log (the address of a letter, the vouchers) */
  detail?: Record<string, unknown>;
  now?: number;
}

/**
 * Inside the caller's transaction (app.transaction / bus.deferUntilCommit): makes the resident's membership of the
 * neighbourhood verified, logs it and emits `member.verified`, which listeners receive after the commit. False when
 * the membership was verified already (nothing logged or emitted twice). With `create`, a missing membership is made.
 */
export async function markVerified(trx: Trx, bus: EventBus, v: MarkVerified, opts: { create?: boolean } = {}): Promise<boolean> {
  const now = v.now ?? Date.now();
  const note = v.note ?? null;
  const updated = await trx
    .updateTable('memberships')
    .set({ verified_at: now, verified_by: v.by, verified_note: note })
    .where('user_id', '=', v.userId)
    .where('neighborhood_id', '=', v.neighborhoodId)
    .where('verified_at', 'is', null)
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) === 0) {
    const existing = await trx.selectFrom('memberships').select('verified_at').where('user_id', '=', v.userId).where('neighborhood_id', '=', v.neighborhoodId).executeTakeFirst();
    if (existing || !opts.create) return false;
    await trx
      .insertInto('memberships')
      .values({ user_id: v.userId, neighborhood_id: v.neighborhoodId, role: 'member', verified_at: now, verified_by: v.by, verified_note: note, created_at: now })
      .execute();
  }
  await audit(trx, v.actorId, MEMBER_VERIFIED, v.userId, { by: v.by, neighborhood: v.neighborhoodId, ...(v.note !== undefined ? { note: v.note } : {}), ...v.detail }, now);
  bus.emit('member.verified', { userId: v.userId, neighborhoodId: v.neighborhoodId });
  return true;
}

/**
 * Inside the caller's transaction: redeems the code for the resident's address and, when it is accepted, makes
 * (or marks) the membership of the address's neighbourhood verified by letter. A rejection is logged (the status
 * page and the per-account limit read it) and says nothing about why.
 */
export async function redeemForResident(trx: Trx, bus: EventBus, userId: string, address: Address, code: unknown, now = Date.now()): Promise<boolean> {
  const neighborhoodId = address.neighborhood_id;
  if (neighborhoodId !== null) {
    // A double submit must not spend a second household use: lock the membership row (a no-op update waits for the
    // first transaction on PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises), then see whether it is verified.
    const where = { user_id: userId, neighborhood_id: neighborhoodId };
    await trx.updateTable('memberships').set({ verified_at: sql`verified_at` }).where('user_id', '=', where.user_id).where('neighborhood_id', '=', where.neighborhood_id).execute();
    const m = await trx.selectFrom('memberships').select('verified_at').where('user_id', '=', where.user_id).where('neighborhood_id', '=', where.neighborhood_id).executeTakeFirst();
    if (m?.verified_at) return true;
  }
  const ok = neighborhoodId !== null && (await redeemCode(trx, address.id, code, now));
  if (!ok) {
    await audit(trx, userId, CODE_REJECTED, address.id, null, now);
    return false;
  }
  // The address may have been assigned to its neighbourhood after the resident registered: then the membership is made here.
  await markVerified(trx, bus, { userId, neighborhoodId, by: 'letter', actorId: userId, detail: { address: address.id }, now }, { create: true });
  return true;
}

export type CodeOutcome = 'verified' | 'rejected' | 'locked' | 'already';

/** Wrong codes this account entered within the last day. */
export async function recentRejections(db: DbOrTrx, userId: string, now: number): Promise<number> {
  const rows = await db
    .selectFrom('audit_log')
    .select('id')
    .where('actor_id', '=', userId)
    .where('action', '=', CODE_REJECTED)
    .where('at', '>', now - DAY)
    .limit(CODE_ATTEMPTS_PER_DAY)
    .execute();
  return rows.length;
}

/** POST /verify/code: the signed-in resident enters the code from the letter sent to their own address. */
export async function verifyWithCode(db: Db, bus: EventBus, user: User, code: unknown, now = Date.now()): Promise<CodeOutcome> {
  await assertMethodOn(db, 'letter');
  const address = user.address_id ? await db.selectFrom('addresses').selectAll().where('id', '=', user.address_id).executeTakeFirst() : undefined;
  if (address?.neighborhood_id) {
    const m = await db
      .selectFrom('memberships')
      .select('verified_at')
      .where('user_id', '=', user.id)
      .where('neighborhood_id', '=', address.neighborhood_id)
      .executeTakeFirst();
    if (m?.verified_at) return 'already';
  }
  if ((await recentRejections(db, user.id, now)) >= CODE_ATTEMPTS_PER_DAY) return 'locked';
  const ok = await bus.deferUntilCommit(() =>
    db.transaction().execute(async (trx) => {
      if (!address || address.retired_at !== null) {
        await audit(trx, user.id, CODE_REJECTED, address?.id ?? null, null, now);
        return false;
      }
      return redeemForResident(trx, bus, user.id, address, code, now);
    }),
  );
  return ok ? 'verified' : 'rejected';
}

export interface ResidentStatus {
  address: Address | undefined;
  /** the address is in no neighbourhood yet: the commune assigns it */
  unassigned: boolean;
  /** when the last code this resident entered was not accepted (undefined: none was refused) */
  codeRejectedAt: number | undefined;
  /** too many wrong codes today */
  locked: boolean;
}

export async function residentStatus(db: DbOrTrx, user: User, now = Date.now()): Promise<ResidentStatus> {
  const address = user.address_id ? await db.selectFrom('addresses').selectAll().where('id', '=', user.address_id).executeTakeFirst() : undefined;
  const last = await db
    .selectFrom('audit_log')
    .select('at')
    .where('actor_id', '=', user.id)
    .where('action', '=', CODE_REJECTED)
    .orderBy('at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return {
    address,
    unassigned: !!address && address.neighborhood_id === null,
    codeRejectedAt: last?.at,
    locked: (await recentRejections(db, user.id, now)) >= CODE_ATTEMPTS_PER_DAY,
  };
}
