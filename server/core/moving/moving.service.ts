// Moving house: a resident picks their new address; the old neighbourhood closes at once and verification starts again.
import type { FastifyInstance } from 'fastify';
import type { Address } from '../../db/database.ts';
import { findAddress } from '../addresses/addresses.repository.ts';
import { audit, CODE_ATTEMPTS_PER_DAY, recentRejections, redeemForResident } from '../verification/verification.service.ts';
import { methodOn } from '../verification/verification-settings.ts';

export const RESIDENT_MOVED = 'resident.moved';

export type MovingDeps = Pick<FastifyInstance, 'db' | 'bus' | 'transaction' | 'realtime'>;

export type MoveOutcome =
  /** field -> message key (namespace included) */
  | { kind: 'invalid'; errors: Partial<Record<'address_id' | 'code', string>>; address: Address | undefined }
  | { kind: 'moved'; address: Address; neighborhoodId: string | null; verified: boolean; codeRejected: boolean };

/**
 * Moves the resident to the address: every membership they hold ends (rows deleted, so the old board answers 404 on
 * the next request, and the vouches collected for it go with them), users.address_id changes, a new waiting
 * membership of the new address's neighbourhood starts (verified at once with a valid letter code for the new
 * address), all in one transaction and logged. After the commit the resident's live sockets close, so they
 * reconnect subscribed to the new channels only. Picking the current address again changes nothing.
 */
export async function moveHouse(deps: MovingDeps, input: { userId: string; addressId: string; code: string; now?: number }): Promise<MoveOutcome> {
  const now = input.now ?? Date.now();
  const addressId = input.addressId.trim();
  if (!addressId) return { kind: 'invalid', errors: { address_id: 'auth:moving.error.addressRequired' }, address: undefined };
  const address = addressId.length <= 100 ? await findAddress(deps.db, addressId) : undefined;
  if (!address || address.retired_at !== null) return { kind: 'invalid', errors: { address_id: 'auth:register.error.addressUnknown' }, address: undefined };
  const user = await deps.db.selectFrom('users').select(['id', 'address_id']).where('id', '=', input.userId).executeTakeFirstOrThrow();
  if (user.address_id === address.id) return { kind: 'invalid', errors: { address_id: 'auth:moving.error.sameAddress' }, address };

  const code = input.code.trim();
  // A code is tried only when letters are in use and the account has not spent its wrong codes for today.
  if (code && !(await methodOn(deps.db, 'letter'))) return { kind: 'invalid', errors: { code: 'auth:moving.codeOff' }, address };
  const tryCode = code !== '' && address.neighborhood_id !== null && (await recentRejections(deps.db, user.id, now)) < CODE_ATTEMPTS_PER_DAY;

  const result = await deps.transaction(async (trx) => {
    const old = await trx.selectFrom('memberships').select(['neighborhood_id', 'role', 'verified_at']).where('user_id', '=', user.id).execute();
    await trx.deleteFrom('memberships').where('user_id', '=', user.id).execute();
    await trx.updateTable('users').set({ address_id: address.id, review_reason: null }).where('id', '=', user.id).execute();
    const neighborhoodId = address.neighborhood_id;
    if (neighborhoodId) {
      await trx.insertInto('memberships').values({ user_id: user.id, neighborhood_id: neighborhoodId, role: 'member', verified_at: null, created_at: now }).execute();
    }
    await audit(trx, user.id, RESIDENT_MOVED, user.id, { from: user.address_id, to: address.id, ended: old.map((m) => m.neighborhood_id) }, now);
    const verified = tryCode ? await redeemForResident(trx, deps.bus, user.id, address, code, now) : false;
    return { neighborhoodId, verified };
  });

  // Their sockets were subscribed to the old neighbourhood's channel: closed, they come back with the new channels.
  const sessions = await deps.db.selectFrom('sessions').select('id').where('user_id', '=', user.id).execute();
  for (const s of sessions) await deps.realtime.closeSession(s.id);

  return { kind: 'moved', address, neighborhoodId: result.neighborhoodId, verified: result.verified, codeRejected: code !== '' && !result.verified };
}
