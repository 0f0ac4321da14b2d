// Addresses and neighbourhoods inserted straight into the database (the importers have tests of their own).
import type { FastifyInstance } from 'fastify';
import type { Address } from '../../server/db/database.ts';
import { newId } from '../../server/ids.ts';
import { numberSortKey, searchKey } from '../../server/core/addresses/normalize.ts';
import { ensureNeighborhood } from './app.ts';

export interface AddressSpec {
  street: string;
  number?: string;
  postcode?: string;
  locality?: string;
  designation?: string | null;
  /** slug of the neighbourhood (created when missing); null: in no neighbourhood */
  neighborhood?: string | null;
  retired?: boolean;
}

/** Inserts one address with the search key the importer would give it. */
export async function insertAddress(app: FastifyInstance, spec: AddressSpec): Promise<Address> {
  const number = spec.number ?? '';
  const postcode = spec.postcode ?? '4131';
  const locality = spec.locality ?? 'Esch-sur-Alzette';
  const now = Date.now();
  const neighborhoodId = spec.neighborhood === null ? null : await ensureNeighborhood(app, spec.neighborhood ?? 'belval');
  const row = {
    id: newId(),
    source: 'generic' as const,
    external_id: newId(),
    street: spec.street,
    number,
    number_sort: numberSortKey(number),
    postcode,
    locality,
    commune: 'Esch-sur-Alzette',
    designation: spec.designation ?? null,
    lon: null,
    lat: null,
    point_kind: null,
    search_key: searchKey([spec.street, number, postcode, locality, spec.designation ?? ''].join(' ')),
    neighborhood_id: neighborhoodId,
    assigned_by: neighborhoodId ? ('manual' as const) : null,
    review: neighborhoodId ? null : ('unassigned' as const),
    candidates: null,
    retired_at: spec.retired ? now : null,
    created_at: now,
    updated_at: now,
  };
  await app.db.insertInto('addresses').values(row).execute();
  return row;
}
