// Neighbourhood moderators: volunteers among a neighbourhood's verified members, named and removed by a commune admin, every change logged.
import type { DbOrTrx } from '../../db/database.ts';
import { newId } from '../../ids.ts';
import { normalizeEmail } from '../auth/users.repository.ts';

export const MODERATOR_NAMED = 'moderator.named';
export const MODERATOR_REMOVED = 'moderator.removed';

export interface ModeratorRow {
  userId: string;
  name: string;
  email: string;
}

export async function listModerators(db: DbOrTrx, neighborhoodId: string): Promise<ModeratorRow[]> {
  const rows = await db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .select(['users.id', 'users.name', 'users.email'])
    .where('memberships.neighborhood_id', '=', neighborhoodId)
    .where('memberships.role', '=', 'moderator')
    .orderBy('users.name')
    .execute();
  return rows.map((r) => ({ userId: r.id, name: r.name, email: r.email }));
}

async function log(db: DbOrTrx, actorId: string, action: string, userId: string, neighborhoodId: string, now: number) {
  await db.insertInto('audit_log').values({ id: newId(), at: now, actor_id: actorId, action, subject: userId, detail: JSON.stringify({ neighborhood: neighborhoodId }) }).execute();
}

/**
 * Names the verified member of the neighbourhood with this e-mail address a moderator of it. 'not-member' when no
 * verified member of this neighbourhood has the address (a resident elsewhere, someone waiting, nobody).
 */
export async function nameModerator(db: DbOrTrx, input: { actorId: string; neighborhoodId: string; email: string; now?: number }): Promise<'named' | 'already' | 'not-member'> {
  const now = input.now ?? Date.now();
  const run = async (trx: DbOrTrx) => {
    const m = await trx
      .selectFrom('memberships')
      .innerJoin('users', 'users.id', 'memberships.user_id')
      .select(['users.id', 'memberships.role'])
      .where('users.email', '=', normalizeEmail(input.email))
      .where('users.disabled_at', 'is', null)
      .where('memberships.neighborhood_id', '=', input.neighborhoodId)
      .where('memberships.verified_at', 'is not', null)
      .executeTakeFirst();
    if (!m) return 'not-member' as const;
    if (m.role === 'moderator') return 'already' as const;
    await trx.updateTable('memberships').set({ role: 'moderator' }).where('user_id', '=', m.id).where('neighborhood_id', '=', input.neighborhoodId).execute();
    await log(trx, input.actorId, MODERATOR_NAMED, m.id, input.neighborhoodId, now);
    return 'named' as const;
  };
  return db.isTransaction ? run(db) : db.transaction().execute(run);
}

/** The moderator goes back to being a member of the neighbourhood; false when they were not a moderator of it. */
export async function removeModerator(db: DbOrTrx, input: { actorId: string; neighborhoodId: string; userId: string; now?: number }): Promise<boolean> {
  const now = input.now ?? Date.now();
  const run = async (trx: DbOrTrx) => {
    const res = await trx
      .updateTable('memberships')
      .set({ role: 'member' })
      .where('user_id', '=', input.userId)
      .where('neighborhood_id', '=', input.neighborhoodId)
      .where('role', '=', 'moderator')
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) return false;
    await log(trx, input.actorId, MODERATOR_REMOVED, input.userId, input.neighborhoodId, now);
    return true;
  };
  return db.isTransaction ? run(db) : db.transaction().execute(run);
}
