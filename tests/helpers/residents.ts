// Residents with a home address and a membership of its neighbourhood, inserted straight into the database, and signed-in clients for them.
import type { FastifyInstance } from 'fastify';
import { Client, createUser, ensureNeighborhood } from './app.ts';
import { insertAddress } from './addresses.ts';

export interface ResidentSpec {
  slug: string;
  name?: string;
  email?: string;
  street?: string;
  number?: string;
  verified?: boolean;
  role?: 'member' | 'moderator';
  /** the commune admin (the membership as given) */
  admin?: boolean;
}

/** A resident living at a fresh address of the neighbourhood. */
export async function resident(app: FastifyInstance, spec: ResidentSpec) {
  const address = await insertAddress(app, { street: spec.street ?? 'Rue de la Poste', number: spec.number ?? '7', neighborhood: spec.slug });
  const user = await createUser(app, {
    name: spec.name,
    email: spec.email,
    role: spec.admin ? 'admin' : 'resident',
    memberships: [{ slug: spec.slug, role: spec.role ?? 'member', verified: spec.verified ?? true }],
  });
  await app.db.updateTable('users').set({ address_id: address.id }).where('id', '=', user.id).execute();
  const neighborhoodId = await ensureNeighborhood(app, spec.slug);
  return { ...user, address, neighborhoodId };
}

/** The same, signed in through the login form. */
export async function residentClient(app: FastifyInstance, spec: ResidentSpec) {
  const user = await resident(app, spec);
  const client = new Client(app);
  await client.login(user.email, user.password);
  return { client, user };
}

export async function membershipOf(app: FastifyInstance, userId: string, neighborhoodId: string) {
  return app.db.selectFrom('memberships').selectAll().where('user_id', '=', userId).where('neighborhood_id', '=', neighborhoodId).executeTakeFirst();
}

export async function auditOf(app: FastifyInstance, action: string) {
  const rows = await app.db.selectFrom('audit_log').selectAll().where('action', '=', action).orderBy('at').orderBy('id').execute();
  return rows.map((r) => ({ ...r, detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null }));
}
