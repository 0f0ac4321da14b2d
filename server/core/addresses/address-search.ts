// The address picker's content, shared by GET /addresses (htmx and JSON) and the registration page without JavaScript.
import type { FastifyRequest } from 'fastify';
import type { DbOrTrx } from '../../db/database.ts';
import { searchAddresses } from './addresses.repository.ts';
import { formatAddress, queryTerms } from './normalize.ts';

export const SEARCH_LIMIT = 20;
export const SEARCH_MIN_CHARS = 2;
/** Longer queries are cut: nobody types an address this long, and the query stays cheap. */
export const SEARCH_MAX_CHARS = 100;

export interface AddressOption {
  id: string;
  label: string;
  checked?: boolean;
}

export interface AddressPicker {
  /** a line in place of (or after) the results: type more, nothing found, only the first 20 */
  message: string | undefined;
  results: AddressOption[];
}

/** Runs the search for what the visitor typed; fewer than two characters give the empty-state message and no query. */
export async function addressPicker(db: DbOrTrx, req: FastifyRequest, rawQuery: unknown): Promise<AddressPicker> {
  const q = typeof rawQuery === 'string' ? rawQuery.slice(0, SEARCH_MAX_CHARS) : '';
  if (queryTerms(q).join('').length < SEARCH_MIN_CHARS) return { message: req.t('auth:addresses.typeMore'), results: [] };
  // One more than shown, to know whether there are more.
  const hits = await searchAddresses(db, q, SEARCH_LIMIT + 1);
  const results = hits.slice(0, SEARCH_LIMIT).map((h) => ({ id: h.id, label: formatAddress(h) }));
  if (!results.length) return { message: req.t('auth:addresses.none'), results };
  return { message: hits.length > SEARCH_LIMIT ? req.t('auth:addresses.more', { count: SEARCH_LIMIT }) : undefined, results };
}
