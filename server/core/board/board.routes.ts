// GET /n/:slug: a neighbourhood's board page (its posts arrive with the board issue; for now its name, members and an empty state).
import type { FastifyInstance } from 'fastify';
import { toNumber } from '../../db/dialect.ts';
import { notFound } from '../../errors.ts';
import { verificationLinks } from '../verification/verification-links.ts';

const slugSchema = { params: { type: 'object', properties: { slug: { type: 'string', maxLength: 200 } }, required: ['slug'] } } as const;

export default async function boardRoutes(app: FastifyInstance) {
  // The central hook already refused anonymous visitors (401) and everyone who is not a verified member here (404).
  app.get('/n/:slug', { schema: slugSchema, config: { access: 'member' } }, async (req, reply) => {
    const { slug } = req.params as { slug: string };
    const membership = req.memberships.find((m) => m.slug === slug && m.verified);
    if (!membership) throw notFound();
    const row = await app.db
      .selectFrom('memberships')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('neighborhood_id', '=', membership.neighborhoodId)
      .where('verified_at', 'is not', null)
      .executeTakeFirst();
    return reply.render('views/pages/board', { title: membership.name, neighborhood: membership.name, slug: membership.slug, members: toNumber(row?.n), ...(await verificationLinks(app.db, membership)) });
  });
}
