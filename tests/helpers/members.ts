// Residents with a home address, a membership and a profile, inserted straight into the database.
import type { FastifyInstance } from 'fastify';
import { Client, createUser, type UserSpec } from './app.ts';
import { insertAddress } from './addresses.ts';

export interface ResidentSpec extends UserSpec {
  street?: string;
  number?: string;
  /** the neighbourhood of the address and of the membership */
  slug?: string;
  verified?: boolean;
  profile?: { languages?: string[]; can_help?: string | null; new_since?: string | null; intro?: string | null; listed?: boolean };
}

/** A resident living at an address of the neighbourhood, member there (verified unless said otherwise). */
export async function resident(app: FastifyInstance, spec: ResidentSpec = {}) {
  const slug = spec.slug ?? 'belval';
  const address = await insertAddress(app, { street: spec.street ?? "Rue de l'Alzette", number: spec.number ?? '12', neighborhood: slug });
  const user = await createUser(app, { ...spec, memberships: [{ slug, verified: spec.verified ?? true }] });
  await app.db.updateTable('users').set({ address_id: address.id }).where('id', '=', user.id).execute();
  if (spec.profile) {
    const p = spec.profile;
    await app.db
      .insertInto('profiles')
      .values({
        user_id: user.id,
        languages: p.languages ? JSON.stringify(p.languages) : null,
        can_help: p.can_help ?? null,
        new_since: p.new_since ?? null,
        intro: p.intro ?? null,
        directory_at: p.listed ? Date.now() : null,
        updated_at: Date.now(),
      })
      .execute();
  }
  return { ...user, address };
}

/** A signed-in client for a new resident. */
export async function residentClient(app: FastifyInstance, spec: ResidentSpec = {}) {
  const user = await resident(app, spec);
  const client = new Client(app);
  await client.login(user.email, user.password);
  return { client, user };
}
