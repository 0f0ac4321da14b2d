// What the board page offers about waiting residents: the vouching page to members, the counter page to moderators.
import type { DbOrTrx } from '../../db/database.ts';
import { toNumber } from '../../db/dialect.ts';
import type { MembershipInfo } from '../../infra/session.ts';
import { verificationSettings } from './verification-settings.ts';

export async function verificationLinks(db: DbOrTrx, membership: MembershipInfo): Promise<{ vouchOn: boolean; pendingOn: boolean; waiting: number }> {
  const { methods } = await verificationSettings(db);
  const vouchOn = methods.includes('vouch');
  const pendingOn = methods.includes('counter') && membership.role === 'moderator';
  if (!vouchOn && !pendingOn) return { vouchOn, pendingOn, waiting: 0 };
  const row = await db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('memberships.neighborhood_id', '=', membership.neighborhoodId)
    .where('memberships.verified_at', 'is', null)
    .where('users.disabled_at', 'is', null)
    .executeTakeFirst();
  return { vouchOn, pendingOn, waiting: toNumber(row?.n) };
}
