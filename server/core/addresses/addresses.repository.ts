// Reading the address register: search as residents type, and one address by id.
import { sql } from 'kysely';
import type { Address, DbOrTrx } from '../../db/database.ts';
import { queryTerms } from './normalize.ts';

export interface AddressHit {
  id: string;
  street: string;
  number: string;
  postcode: string;
  locality: string;
  neighborhoodId: string | null;
}

/** Escapes LIKE wildcards so that `%` and `_` typed by a person match themselves. */
function likeEscape(term: string): string {
  return term.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * Current (not retired) addresses whose text holds every word of the query, accents and case ignored,
 * `L-4131` read as `4131`; house numbers match from their start (`8` finds `8` and `8A`).
 */
export async function searchAddresses(db: DbOrTrx, q: string, limit = 20): Promise<AddressHit[]> {
  const terms = queryTerms(q).filter((t) => t.length >= 1);
  if (!terms.length || terms.join('').length < 2) return [];
  let query = db
    .selectFrom('addresses')
    .select(['id', 'street', 'number', 'postcode', 'locality', 'neighborhood_id'])
    .where('retired_at', 'is', null);
  for (const term of terms) {
    // Word starts only: ` term` inside the key padded with a leading space.
    query = query.where(sql<boolean>`(' ' || search_key) like ${`% ${likeEscape(term)}%`} escape '\\'`);
  }
  const rows = await query.orderBy('street').orderBy('number_sort').orderBy('number').orderBy('postcode').limit(limit).execute();
  return rows.map((r) => ({ id: r.id, street: r.street, number: r.number, postcode: r.postcode, locality: r.locality, neighborhoodId: r.neighborhood_id }));
}

export function findAddress(db: DbOrTrx, id: string): Promise<Address | undefined> {
  return db.selectFrom('addresses').selectAll().where('id', '=', id).executeTakeFirst();
}
