// GET /n/:slug/neighbours: the directory of a neighbourhood's members who chose to be listed.
import type { FastifyInstance } from 'fastify';
import { notFound } from '../../errors.ts';
import { listDirectory } from './directory.service.ts';

const slugSchema = { params: { type: 'object', properties: { slug: { type: 'string', maxLength: 200 } }, required: ['slug'] } } as const;

/** "March 2024" in the reader's language, from YYYY-MM. */
export function monthYear(lang: string, yyyymm: string | null): string | undefined {
  const m = yyyymm ? /^(\d{4})-(\d{2})$/.exec(yyyymm) : null;
  if (!m) return undefined;
  return new Intl.DateTimeFormat(lang, { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(Date.UTC(Number(m[1]), Number(m[2]) - 1, 15));
}

export default async function directoryRoutes(app: FastifyInstance) {
  // The central hook already refused anonymous visitors (401) and everyone who is not a verified member here (404).
  app.get('/n/:slug/neighbours', { schema: slugSchema, config: { access: 'member' } }, async (req, reply) => {
    const { slug } = req.params as { slug: string };
    const membership = req.memberships.find((m) => m.slug === slug && m.verified);
    if (!membership) throw notFound();
    const entries = await listDirectory(app.db, membership.neighborhoodId, req.lang);
    const me = req.user!.id;
    const listed = entries.some((e) => e.userId === me);
    return reply.render('views/pages/neighbours', {
      title: req.t('board:directory.title'),
      neighborhood: membership.name,
      slug: membership.slug,
      count: entries.length,
      listed,
      entries: entries.map((e) => ({
        name: e.name,
        you: e.userId === me,
        languages: e.languages.map((l) => req.t(`auth:profile.language.${l}`)).join(', '),
        canHelp: e.canHelp,
        newSince: monthYear(req.lang, e.newSince),
        intro: e.intro,
      })),
    });
  });
}
