// GET /addresses?q=: the as-you-type address search of the registration form (an HTML fragment, or JSON for scripts).
import type { FastifyInstance } from 'fastify';
import { wantsJson } from '../../infra/errors.ts';
import { addressPicker, SEARCH_MAX_CHARS } from './address-search.ts';

const searchSchema = { querystring: { type: 'object', properties: { q: { type: 'string', maxLength: 1000 } } } } as const;

export default async function addressRoutes(app: FastifyInstance) {
  app.get(
    '/addresses',
    // Public, so limited per client address: the register must not be scraped at speed.
    { schema: searchSchema, config: { access: 'public', rateLimit: { max: 60, timeWindow: 60_000 } } },
    async (req, reply) => {
      const q = ((req.query as { q?: string }).q ?? '').slice(0, SEARCH_MAX_CHARS);
      const picker = await addressPicker(app.db, req, q);
      reply.header('Vary', 'Accept, HX-Request');
      if (wantsJson(req)) return reply.type('application/json; charset=utf-8').send({ results: picker.results.map(({ id, label }) => ({ id, label })) });
      // Always a fragment: it is swapped into the registration form, never visited as a page.
      const html = await reply.viewAsync('views/partials/address-results', { picker, _t: req.t, lang: req.lang });
      return reply.type('text/html; charset=utf-8').send(html);
    },
  );
}
