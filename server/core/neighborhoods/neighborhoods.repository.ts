// Reading neighbourhoods with their figures.
import type { DbOrTrx } from '../../db/database.ts';
import { toNumber } from '../../db/dialect.ts';

export interface NeighborhoodRow {
  id: string;
  slug: string;
  name: string;
  addresses: number;
  verifiedMembers: number;
}

/** Every neighbourhood with its current addresses and verified members, by name. */
export async function listNeighborhoods(db: DbOrTrx): Promise<NeighborhoodRow[]> {
  const rows = await db
    .selectFrom('neighborhoods as n')
    .select((eb) => [
      'n.id',
      'n.slug',
      'n.name',
      eb.selectFrom('addresses as a').select(eb.fn.countAll().as('c')).whereRef('a.neighborhood_id', '=', 'n.id').where('a.retired_at', 'is', null).as('addresses'),
      eb.selectFrom('memberships as m').select(eb.fn.countAll().as('c')).whereRef('m.neighborhood_id', '=', 'n.id').where('m.verified_at', 'is not', null).as('members'),
    ])
    .orderBy('n.name')
    .execute();
  return rows.map((r) => ({ id: r.id, slug: r.slug, name: r.name, addresses: toNumber(r.addresses), verifiedMembers: toNumber(r.members) }));
}
