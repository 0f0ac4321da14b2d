// GET /healthz for load balancers and GET /metrics (Prometheus) for the commune's monitoring.
import type { FastifyInstance } from 'fastify';
import { ping } from '../../db/dialect.ts';
import { AppError } from '../../errors.ts';

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

export default async function healthRoutes(app: FastifyInstance) {
  app.get('/healthz', { config: { access: 'public' } }, async (_req, reply) => {
    reply.header('Cache-Control', 'no-store');
    try {
      await ping(app.db);
      return { status: 'ok' };
    } catch (err) {
      app.log.error({ err }, 'health check: database does not answer');
      return reply.code(503).send({ status: 'unavailable' });
    }
  });

  // Admins, or the server's own machine (a Prometheus agent on localhost); the address is the proxy-aware req.ip.
  app.get('/metrics', { config: { access: 'public' } }, async (req, reply) => {
    // The socket's own peer, not the proxy-aware address, and no sign of a proxy in front.
    const proxied = ['x-forwarded-for', 'x-real-ip', 'forwarded'].some((h) => req.headers[h] !== undefined);
    const local = LOOPBACK.test(req.socket.remoteAddress ?? '') && !proxied;
    if (!local && req.user?.role !== 'admin') throw new AppError(req.user ? 'FORBIDDEN' : 'UNAUTHENTICATED');
    reply.header('Cache-Control', 'no-store').type(app.metrics.contentType);
    return app.metrics.metrics();
  });
}
