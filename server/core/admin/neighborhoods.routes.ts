// Commune admins: the neighbourhoods with their figures, maps and moderators, and the review list of addresses in no or several neighbourhoods.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../errors.ts';
import { newId } from '../../ids.ts';
import { toNumber } from '../../db/dialect.ts';
import { formatAddress } from '../addresses/normalize.ts';
import { listNeighborhoods } from '../neighborhoods/neighborhoods.repository.ts';
import { listModerators, nameModerator, removeModerator } from '../neighborhoods/moderators.service.ts';
import { neighborhoodSvg } from '../neighborhoods/map.ts';
import type { Geometry } from '../neighborhoods/geo.ts';

const PAGE = 50;

export default async function adminNeighborhoodRoutes(app: FastifyInstance) {
  app.get('/admin/neighborhoods', { config: { access: 'admin' } }, async (req, reply) => {
    const list = await listNeighborhoods(app.db);
    const review = await app.db
      .selectFrom('addresses')
      .select(['review', (eb) => eb.fn.countAll().as('n')])
      .where('retired_at', 'is', null)
      .where('review', 'is not', null)
      .groupBy('review')
      .execute();
    const count = (k: string) => toNumber(review.find((r) => r.review === k)?.n);
    return reply.render('views/pages/admin-neighborhoods', {
      title: req.t('admin:neighborhoods.title'),
      neighborhoods: list,
      unassigned: count('unassigned'),
      ambiguous: count('ambiguous'),
      totalAddresses: list.reduce((s, n) => s + n.addresses, 0) + count('unassigned') + count('ambiguous'),
    });
  });

  /** The neighbourhood's page; `moderatorForm` brings back a refused e-mail address with its message. */
  async function renderNeighborhood(req: FastifyRequest, reply: FastifyReply, moderatorForm?: { email: string; error: string }, status?: number) {
    const { slug } = req.params as { slug: string };
    const n = await app.db.selectFrom('neighborhoods').selectAll().where('slug', '=', slug).executeTakeFirst();
    if (!n) throw new AppError('NOT_FOUND');
    const links = await app.db
      .selectFrom('neighborhood_links')
      .select(['a_id', 'b_id'])
      .where('kind', '!=', 'removed')
      .where((eb) => eb.or([eb('a_id', '=', n.id), eb('b_id', '=', n.id)]))
      .execute();
    const ids = links.map((l) => (l.a_id === n.id ? l.b_id : l.a_id));
    const neighbours = ids.length ? await app.db.selectFrom('neighborhoods').select(['id', 'slug', 'name', 'geometry']).where('id', 'in', ids).orderBy('name').execute() : [];
    const points = await app.db.selectFrom('addresses').select(['lon', 'lat']).where('neighborhood_id', '=', n.id).where('retired_at', 'is', null).where('lon', 'is not', null).execute();
    const figures = (await listNeighborhoods(app.db)).find((x) => x.id === n.id)!;
    const pending = toNumber(
      (await app.db.selectFrom('memberships').select((eb) => eb.fn.countAll().as('c')).where('neighborhood_id', '=', n.id).where('verified_at', 'is', null).executeTakeFirst())?.c,
    );
    const map = n.geometry
      ? neighborhoodSvg(
          {
            focus: { slug: n.slug, name: n.name, geometry: JSON.parse(n.geometry) as Geometry },
            neighbours: neighbours.filter((x) => x.geometry).map((x) => ({ slug: x.slug, name: x.name, geometry: JSON.parse(x.geometry!) as Geometry })),
            points: points.map((p) => [p.lon!, p.lat!]),
          },
          { title: req.t('admin:neighborhoods.mapTitle', { name: n.name }) },
        )
      : undefined;
    return reply.render('views/pages/admin-neighborhood', {
      title: n.name,
      neighborhood: { slug: n.slug, name: n.name },
      figures: { ...figures, pending, pointless: figures.addresses - points.length },
      neighbours: neighbours.map((x) => ({ slug: x.slug, name: x.name })),
      map,
      moderators: await listModerators(app.db, n.id),
      moderatorForm,
      moderatorsChanged: (req.query as { moderators?: string } | undefined)?.moderators === 'changed' && !moderatorForm,
    }, status);
  }

  app.get('/admin/neighborhoods/:slug', { config: { access: 'admin' } }, async (req, reply) => renderNeighborhood(req, reply));

  // Moderators: verified members of the neighbourhood, named by e-mail address and removed again; both logged.
  app.post(
    '/admin/neighborhoods/:slug/moderators',
    { schema: { body: { type: 'object', properties: { email: { type: 'string', maxLength: 320 }, _csrf: { type: 'string' } } } }, config: { access: 'admin' } },
    async (req, reply) => {
      const { slug } = req.params as { slug: string };
      const n = await app.db.selectFrom('neighborhoods').select(['id', 'name']).where('slug', '=', slug).executeTakeFirst();
      if (!n) throw new AppError('NOT_FOUND');
      const email = ((req.body as { email?: string } | undefined)?.email ?? '').trim();
      const outcome = email ? await nameModerator(app.db, { actorId: req.user!.id, neighborhoodId: n.id, email }) : 'not-member';
      if (outcome === 'not-member') return renderNeighborhood(req, reply, { email, error: req.t(email ? 'admin:moderators.notMember' : 'admin:moderators.emailRequired', { name: n.name }) }, 400);
      return reply.redirect(`/admin/neighborhoods/${encodeURIComponent(slug)}?moderators=changed#moderators`, 303);
    },
  );

  app.post(
    '/admin/neighborhoods/:slug/moderators/:userId/remove',
    { schema: { params: { type: 'object', properties: { slug: { type: 'string', maxLength: 200 }, userId: { type: 'string', maxLength: 200 } }, required: ['slug', 'userId'] } }, config: { access: 'admin' } },
    async (req, reply) => {
      const { slug, userId } = req.params as { slug: string; userId: string };
      const n = await app.db.selectFrom('neighborhoods').select('id').where('slug', '=', slug).executeTakeFirst();
      if (!n) throw new AppError('NOT_FOUND');
      if (!(await removeModerator(app.db, { actorId: req.user!.id, neighborhoodId: n.id, userId }))) throw new AppError('NOT_FOUND');
      return reply.redirect(`/admin/neighborhoods/${encodeURIComponent(slug)}?moderators=changed#moderators`, 303);
    },
  );

  app.get('/admin/addresses/review', { config: { access: 'admin' } }, async (req, reply) => {
    const after = typeof (req.query as { after?: unknown }).after === 'string' ? ((req.query as { after: string }).after).slice(0, 40) : '';
    const rows = await app.db
      .selectFrom('addresses')
      .select(['id', 'street', 'number', 'postcode', 'locality', 'review', 'candidates', 'lon'])
      .where('retired_at', 'is', null)
      .where('review', 'is not', null)
      .where('id', '>', after)
      .orderBy('id')
      .limit(PAGE + 1)
      .execute();
    const all = await app.db.selectFrom('neighborhoods').select(['id', 'name']).orderBy('name').execute();
    const names = new Map(all.map((x) => [x.id, x.name]));
    const page = rows.slice(0, PAGE).map((a) => {
      const candidates: string[] = a.candidates ? JSON.parse(a.candidates) : [];
      return {
        id: a.id,
        label: formatAddress(a),
        ambiguous: a.review === 'ambiguous',
        noPoint: a.lon === null,
        candidates: candidates.map((id) => names.get(id)).filter(Boolean).join(', '),
        // Candidates first, then the rest.
        options: [...all.filter((x) => candidates.includes(x.id)), ...all.filter((x) => !candidates.includes(x.id))],
      };
    });
    return reply.render('views/pages/admin-review', {
      title: req.t('admin:review.title'),
      addresses: page,
      next: rows.length > PAGE ? page[page.length - 1]!.id : undefined,
    });
  });

  app.post(
    '/admin/addresses/:id/assign',
    {
      schema: {
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 40 } }, required: ['id'] },
        body: { type: 'object', properties: { neighborhood_id: { type: 'string', maxLength: 40 }, after: { type: 'string', maxLength: 40 } }, required: ['neighborhood_id'] },
      },
      config: { access: 'admin' },
    },
    async (req, reply) => {
      const { id } = req.params as { id: string };
      const { neighborhood_id: nid, after } = req.body as { neighborhood_id: string; after?: string };
      const n = await app.db.selectFrom('neighborhoods').select('id').where('id', '=', nid).executeTakeFirst();
      if (!n) throw new AppError('VALIDATION');
      const now = Date.now();
      await app.db.transaction().execute(async (trx) => {
        const res = await trx
          .updateTable('addresses')
          .set({ neighborhood_id: nid, assigned_by: 'manual', review: null, candidates: null, updated_at: now })
          .where('id', '=', id)
          .where('retired_at', 'is', null)
          .executeTakeFirst();
        if (Number(res.numUpdatedRows) === 0) throw new AppError('NOT_FOUND');
        await trx.insertInto('audit_log').values({ id: newId(), at: now, actor_id: req.user!.id, action: 'address.assign', subject: id, detail: JSON.stringify({ neighborhood_id: nid }) }).execute();
      });
      return reply.redirect(`/admin/addresses/review${after ? `?after=${encodeURIComponent(after)}` : ''}`, 303);
    },
  );
}
