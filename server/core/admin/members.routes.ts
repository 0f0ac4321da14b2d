// Commune admins: find a resident by name or e-mail (never by what they wrote), see their address and status, verify them at the counter.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import { notFound } from '../../errors.ts';
import { formatAddress } from '../addresses/normalize.ts';
import { NOTE_MAX, noteProblem, verifyAtCounter } from '../verification/counter.service.ts';
import { assertMethodOn, methodOn } from '../verification/verification-settings.ts';
import { vouchCount } from '../verification/vouch.service.ts';

const SEARCH_LIMIT = 50;
const id = { type: 'string', maxLength: 200 } as const;
const searchSchema = { querystring: { type: 'object', properties: { q: { type: 'string', maxLength: 200 } } } } as const;
const memberSchema = {
  params: { type: 'object', properties: { userId: id }, required: ['userId'] },
  querystring: { type: 'object', properties: { done: { type: 'string', maxLength: 10 } } },
} as const;
const verifySchema = {
  params: { type: 'object', properties: { userId: id }, required: ['userId'] },
  body: { type: 'object', properties: { note: { type: 'string', maxLength: 4096 }, _csrf: { type: 'string' } } },
} as const;

/** `%` and `_` typed by the admin match themselves. */
const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

export default async function adminMemberRoutes(app: FastifyInstance) {
  app.get('/admin/members', { schema: searchSchema, config: { access: 'admin' } }, async (req, reply) => {
    const q = ((req.query as { q?: string }).q ?? '').trim();
    let results: Array<{ id: string; name: string; email: string; neighborhood: string | null; waiting: boolean }> | undefined;
    if (q.length >= 2) {
      const pattern = `%${likeEscape(q.toLowerCase())}%`;
      const rows = await app.db
        .selectFrom('users')
        .leftJoin('memberships', 'memberships.user_id', 'users.id')
        .leftJoin('neighborhoods', 'neighborhoods.id', 'memberships.neighborhood_id')
        .select(['users.id', 'users.name', 'users.email', 'neighborhoods.name as neighborhood', 'memberships.verified_at', 'memberships.user_id as member'])
        .where((eb) => eb.or([sql<boolean>`lower(users.name) like ${pattern} escape '\\'`, sql<boolean>`users.email like ${pattern} escape '\\'`]))
        .orderBy('users.name')
        .orderBy('users.id')
        .limit(SEARCH_LIMIT)
        .execute();
      results = rows.map((r) => ({ id: r.id, name: r.name, email: r.email, neighborhood: r.neighborhood, waiting: r.member !== null && r.verified_at === null }));
    }
    return reply.render('views/pages/admin-members', {
      title: req.t('admin:counter.title'),
      q,
      searched: results !== undefined,
      results: results ?? [],
      full: (results?.length ?? 0) >= SEARCH_LIMIT,
    });
  });

  async function renderMember(req: FastifyRequest, reply: FastifyReply, form?: { note: string; error: string }, status?: number) {
    const { userId } = req.params as { userId: string };
    const user = await app.db.selectFrom('users').select(['id', 'name', 'email', 'role', 'address_id', 'created_at', 'disabled_at']).where('id', '=', userId).executeTakeFirst();
    if (!user) throw notFound();
    const address = user.address_id ? await app.db.selectFrom('addresses').selectAll().where('id', '=', user.address_id).executeTakeFirst() : undefined;
    const memberships = await app.db
      .selectFrom('memberships')
      .innerJoin('neighborhoods', 'neighborhoods.id', 'memberships.neighborhood_id')
      .select(['neighborhoods.id', 'neighborhoods.slug', 'neighborhoods.name', 'memberships.role', 'memberships.verified_at', 'memberships.verified_by', 'memberships.verified_note'])
      .where('memberships.user_id', '=', user.id)
      .orderBy('neighborhoods.name')
      .execute();
    const counter = await methodOn(app.db, 'counter');
    const rows = await Promise.all(
      memberships.map(async (m) => ({
        ...m,
        moderator: m.role === 'moderator',
        verifiedBy: m.verified_by ? req.t(`admin:counter.by.${m.verified_by}`) : undefined,
        vouches: m.verified_at === null ? await vouchCount(app.db, user.id, m.id) : 0,
      })),
    );
    return reply.render(
      'views/pages/admin-member',
      {
        title: user.name,
        member: { id: user.id, name: user.name, email: user.email, admin: user.role === 'admin', disabled: user.disabled_at !== null, createdAt: user.created_at },
        address: address ? formatAddress(address) : undefined,
        retired: address?.retired_at != null,
        memberships: rows,
        canVerify: counter && user.disabled_at === null && rows.some((m) => m.verified_at === null),
        counterOff: !counter,
        note: form?.note ?? '',
        error: form?.error,
        noteMax: NOTE_MAX,
        done: (req.query as { done?: string }).done === '1' && !form,
      },
      status,
    );
  }

  app.get('/admin/members/:userId', { schema: memberSchema, config: { access: 'admin' } }, async (req, reply) => renderMember(req, reply));

  app.post('/admin/members/:userId/verify', { schema: verifySchema, config: { access: 'admin' } }, async (req, reply) => {
    const { userId } = req.params as { userId: string };
    await assertMethodOn(app.db, 'counter');
    const note = (req.body as { note?: string } | undefined)?.note ?? '';
    const problem = noteProblem(note);
    if (problem) return renderMember(req, reply, { note, error: req.t(problem, { max: NOTE_MAX }) }, 400);
    // The membership waiting for verification: the one of the neighbourhood of the resident's address, if there are several.
    const waiting = await app.db
      .selectFrom('memberships')
      .innerJoin('users', 'users.id', 'memberships.user_id')
      .leftJoin('addresses', 'addresses.id', 'users.address_id')
      .select(['memberships.neighborhood_id', 'addresses.neighborhood_id as home'])
      .where('memberships.user_id', '=', userId)
      .where('memberships.verified_at', 'is', null)
      .execute();
    const target = waiting.find((w) => w.neighborhood_id === w.home) ?? waiting[0];
    if (!target) throw notFound();
    await verifyAtCounter(app, { actorId: req.user!.id, actorRole: 'admin', userId, neighborhoodId: target.neighborhood_id, note });
    return reply.redirect(`/admin/members/${encodeURIComponent(userId)}?done=1`, 303);
  });
}
