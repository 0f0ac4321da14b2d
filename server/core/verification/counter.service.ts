// Verification in person: a commune admin or a moderator of the neighbourhood checks papers and verifies a waiting resident, with a note.
import type { FastifyInstance } from 'fastify';
import type { DbOrTrx } from '../../db/database.ts';
import { notFound } from '../../errors.ts';
import { formatAddress } from '../addresses/normalize.ts';
import { markVerified } from './verification.service.ts';
import { assertMethodOn } from './verification-settings.ts';

export const NOTE_MAX = 500;

export type CounterDeps = Pick<FastifyInstance, 'db' | 'bus' | 'transaction'>;

/** The message key of what is wrong with a note, or undefined when it will do. */
export function noteProblem(note: string): string | undefined {
  const n = note.trim();
  if (!n) return 'auth:counter.noteRequired';
  if (n.length > NOTE_MAX) return 'auth:counter.noteTooLong';
  return undefined;
}

export interface PendingResident {
  userId: string;
  /** the full name and address: whoever verifies in person compares them with the papers shown */
  name: string;
  address: string;
  registeredAt: number;
}

/** The residents waiting for verification in the neighbourhood, oldest first, as the moderators at the counter see them. */
export async function pendingResidents(db: DbOrTrx, neighborhoodId: string, limit = 200): Promise<PendingResident[]> {
  const rows = await db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .leftJoin('addresses', 'addresses.id', 'users.address_id')
    .select(['users.id', 'users.name', 'memberships.created_at', 'addresses.street', 'addresses.number', 'addresses.postcode', 'addresses.locality'])
    .where('memberships.neighborhood_id', '=', neighborhoodId)
    .where('memberships.verified_at', 'is', null)
    .where('users.disabled_at', 'is', null)
    .orderBy('memberships.created_at')
    .orderBy('users.id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    userId: r.id,
    name: r.name,
    address: r.street !== null ? formatAddress({ street: r.street, number: r.number ?? '', postcode: r.postcode ?? '', locality: r.locality ?? '' }) : '',
    registeredAt: r.created_at,
  }));
}

export interface CounterInput {
  /** the admin or moderator */
  actorId: string;
  actorRole: 'admin' | 'moderator';
  userId: string;
  neighborhoodId: string;
  note: string;
  now?: number;
}

/**
 * Verifies the resident's waiting membership of the neighbourhood (verified_by 'counter', the note kept), logs who
 * verified whom with the note, and emits `member.verified` after the commit. 404 when the resident is not waiting
 * there. The caller has checked the note (noteProblem) and that the actor may verify in this neighbourhood.
 */
export async function verifyAtCounter(deps: CounterDeps, input: CounterInput): Promise<void> {
  await assertMethodOn(deps.db, 'counter');
  const note = input.note.trim();
  if (noteProblem(note)) throw notFound(); // callers check first; never verify without a note
  const done = await deps.transaction(async (trx) => {
    const user = await trx.selectFrom('users').select('id').where('id', '=', input.userId).where('disabled_at', 'is', null).executeTakeFirst();
    if (!user) return false;
    return markVerified(trx, deps.bus, {
      userId: input.userId,
      neighborhoodId: input.neighborhoodId,
      by: 'counter',
      actorId: input.actorId,
      note,
      detail: { role: input.actorRole },
      now: input.now,
    });
  });
  if (!done) throw notFound();
}
