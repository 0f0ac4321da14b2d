// GET /n/:slug/vouch and POST /n/:slug/vouch/:userId: verified members confirm that a waiting resident lives in their neighbourhood.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { notFound } from '../../errors.ts';
import { assertMethodOn } from './verification-settings.ts';
import { vouchFor, waitingNeighbours } from './vouch.service.ts';

const id = { type: 'string', maxLength: 200 } as const;
const pageSchema = {
  params: { type: 'object', properties: { slug: id }, required: ['slug'] },
  querystring: { type: 'object', properties: { done: { type: 'string', maxLength: 20 } } },
} as const;
const vouchSchema = {
  params: { type: 'object', properties: { slug: id, userId: id }, required: ['slug', 'userId'] },
  body: { type: 'object', properties: { _csrf: { type: 'string' } } },
} as const;

/** What the page says after a POST (the 303 carries it in ?done=). */
const DONE = new Set(['counted', 'verified', 'already']);

/** The reader's verified membership of the neighbourhood in the URL (the access hook has checked it exists). */
function membershipHere(req: FastifyRequest) {
  const { slug } = req.params as { slug: string };
  const m = req.memberships.find((x) => x.slug === slug && x.verified);
  if (!m) throw notFound();
  return m;
}

export default async function vouchRoutes(app: FastifyInstance) {
  app.get('/n/:slug/vouch', { schema: pageSchema, config: { access: 'member' } }, async (req, reply) => {
    const m = membershipHere(req);
    const { vouches: needed } = await assertMethodOn(app.db, 'vouch');
    const waiting = await waitingNeighbours(app.db, m.neighborhoodId, req.user!.id);
    const { done } = req.query as { done?: string };
    return reply.render('views/pages/vouch', {
      title: req.t('board:vouch.title'),
      neighborhood: m.name,
      slug: m.slug,
      needed,
      waiting,
      done: done && DONE.has(done) ? req.t(`board:vouch.done.${done}`) : undefined,
    });
  });

  app.post('/n/:slug/vouch/:userId', { schema: vouchSchema, config: { access: 'member' } }, async (req, reply) => {
    const m = membershipHere(req);
    const { userId } = req.params as { userId: string };
    const result = await vouchFor(app, { voucherId: req.user!.id, userId, neighborhoodId: m.neighborhoodId });
    const done = result.verified ? 'verified' : result.outcome;
    return reply.redirect(`/n/${encodeURIComponent(m.slug)}/vouch?done=${done}`, 303);
  });
}
