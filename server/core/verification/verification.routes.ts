// POST /verify/code: a signed-in resident enters the code from the letter sent to their address.
import type { FastifyInstance } from 'fastify';
import { verifyWithCode } from './verification.service.ts';

const codeSchema = { body: { type: 'object', properties: { code: { type: 'string', maxLength: 200 }, _csrf: { type: 'string' } } } } as const;

export default async function verificationRoutes(app: FastifyInstance) {
  app.post(
    '/verify/code',
    // Per client address here; per account (wrong codes a day) in the service.
    { schema: codeSchema, config: { access: 'authenticated', rateLimit: { max: 10, timeWindow: 10 * 60_000 } } },
    async (req, reply) => {
      const { code } = (req.body ?? {}) as { code?: string };
      await verifyWithCode(app.db, app.bus, req.user!, code ?? '');
      // Verified: / leads on to the board. Otherwise the status page says the code was not accepted (never why).
      return reply.redirect('/', 303);
    },
  );
}
