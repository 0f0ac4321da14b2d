// GET /n/:slug/pending and POST /n/:slug/pending/:userId/verify: a neighbourhood's moderators verify waiting residents in person, with a note.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { notFound } from '../../errors.ts';
import { NOTE_MAX, noteProblem, pendingResidents, verifyAtCounter } from './counter.service.ts';
import { assertMethodOn } from './verification-settings.ts';

const id = { type: 'string', maxLength: 200 } as const;
const pageSchema = {
  params: { type: 'object', properties: { slug: id }, required: ['slug'] },
  querystring: { type: 'object', properties: { done: { type: 'string', maxLength: 10 } } },
} as const;
const verifySchema = {
  params: { type: 'object', properties: { slug: id, userId: id }, required: ['slug', 'userId'] },
  body: { type: 'object', properties: { note: { type: 'string', maxLength: 4096 }, _csrf: { type: 'string' } } },
} as const;

/** The moderator's membership of the neighbourhood in the URL (the access hook has checked the role). */
function moderatedHere(req: FastifyRequest) {
  const { slug } = req.params as { slug: string };
  const m = req.memberships.find((x) => x.slug === slug && x.verified && x.role === 'moderator');
  if (!m) throw notFound();
  return m;
}

export default async function counterRoutes(app: FastifyInstance) {
  async function renderPending(req: FastifyRequest, reply: FastifyReply, form?: { userId: string; note: string; error: string }, status?: number) {
    const m = moderatedHere(req);
    await assertMethodOn(app.db, 'counter');
    const residents = (await pendingResidents(app.db, m.neighborhoodId)).map((r) => ({
      ...r,
      note: form?.userId === r.userId ? form.note : '',
      error: form?.userId === r.userId ? form.error : undefined,
    }));
    return reply.render(
      'views/pages/pending',
      {
        title: req.t('board:counter.title'),
        neighborhood: m.name,
        slug: m.slug,
        residents,
        noteMax: NOTE_MAX,
        done: (req.query as { done?: string }).done === '1' && !form,
      },
      status,
    );
  }

  app.get('/n/:slug/pending', { schema: pageSchema, config: { access: 'moderator' } }, async (req, reply) => renderPending(req, reply));

  app.post('/n/:slug/pending/:userId/verify', { schema: verifySchema, config: { access: 'moderator' } }, async (req, reply) => {
    const m = moderatedHere(req);
    const { userId } = req.params as { userId: string };
    const note = (req.body as { note?: string } | undefined)?.note ?? '';
    const problem = noteProblem(note);
    if (problem) return renderPending(req, reply, { userId, note, error: req.t(problem, { max: NOTE_MAX }) }, 400);
    await verifyAtCounter(app, { actorId: req.user!.id, actorRole: 'moderator', userId, neighborhoodId: m.neighborhoodId, note });
    return reply.redirect(`/n/${encodeURIComponent(m.slug)}/pending?done=1`, 303);
  });
}
