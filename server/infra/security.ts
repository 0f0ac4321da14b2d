// Security baseline: strict CSP and headers, Origin + CSRF check on every state-changing request, no-store for signed-in pages, rate limits kept in the database.
import fp from 'fastify-plugin';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import type { Db } from '../db/database.ts';
import { AppError } from '../errors.ts';
import { increment } from './rate-limit.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** A rate-limit store in the database, so that every process of a commune counts together. */
function dbStore(db: Db) {
  class DbStore {
    /** Each route's limit counts apart (as @fastify/rate-limit's own stores do): `POST /login|<ip>`. */
    private readonly prefix: string;
    constructor(readonly options: Record<string, unknown> = {}) {
      const route = options.routeInfo as { method?: string | string[]; url?: string } | undefined;
      this.prefix = route?.url ? `${[route.method ?? ''].flat().join(',')} ${route.url}|` : '';
    }
    incr(client: string, cb: (err: Error | null, res?: { current: number; ttl: number }) => void, timeWindow: number) {
      const now = Date.now();
      increment(db, this.prefix + client, timeWindow, now)
        .then((c) => cb(null, { current: c.current, ttl: Math.max(0, c.resetAt - now) }))
        .catch((err: Error) => cb(err));
    }
    read(client: string, cb: (err: Error | null, res?: { current: number; ttl: number }) => void) {
      const key = this.prefix + client;
      const now = Date.now();
      db.selectFrom('rate_limits').select(['count', 'reset_at']).where('key', '=', key).executeTakeFirst()
        .then((row) => cb(null, !row || row.reset_at <= now ? { current: 0, ttl: 0 } : { current: row.count, ttl: row.reset_at - now }))
        .catch((err: Error) => cb(err));
    }
    child(routeOptions: Record<string, unknown>) {
      return new DbStore({ ...this.options, ...routeOptions });
    }
  }
  return DbStore;
}

/** The client address: under injectWS req.ip can be undefined. Behind a proxy only when TRUST_PROXY says so (Fastify's trustProxy). */
export function clientKey(req: FastifyRequest): string {
  return req.ip ?? req.socket?.remoteAddress ?? 'unknown';
}

function sameOrigin(req: FastifyRequest, config: Config, origin: string): boolean {
  let o: URL;
  try {
    o = new URL(origin);
  } catch {
    return false;
  }
  if (o.origin === new URL(config.baseUrl).origin) return true;
  // The address the browser used for this very request (Host cannot be set by a cross-site page).
  const host = req.headers.host;
  if (!host) return false;
  try {
    return o.origin === new URL(`http://${host}`).origin || o.origin === new URL(`https://${host}`).origin;
  } catch {
    return false;
  }
}

export default fp(
  async (app, opts: { config: Config; db: Db }) => {
    const { config, db } = opts;
    app.decorate('isOwnOrigin', (req: FastifyRequest, origin: string) => sameOrigin(req, config, origin));
    await app.register(helmet, {
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          fontSrc: ["'self'"],
          connectSrc: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          baseUri: ["'none'"],
          objectSrc: ["'none'"],
          manifestSrc: ["'self'"],
          workerSrc: ["'self'"],
        },
      },
      crossOriginEmbedderPolicy: false,
      xFrameOptions: { action: 'deny' },
      strictTransportSecurity: config.baseUrl.startsWith('https:') ? { maxAge: 31536000, includeSubDomains: false } : false,
      referrerPolicy: { policy: 'same-origin' },
    });
    app.addHook('onRequest', async (_req, reply) => {
      reply.header('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), interest-cohort=()');
    });

    await app.register(rateLimit, {
      global: false,
      store: dbStore(db) as never,
      keyGenerator: clientKey,
      errorResponseBuilder: (_req, ctx) => Object.assign(new AppError('RATE_LIMITED', { count: Math.max(1, Math.ceil(ctx.ttl / 1000)) }), { statusCode: 429 }),
    });

    // Non-GET requests must come from our own pages: Origin (or Referer) when the browser sends one, and always the token.
    app.addHook('preValidation', async (req) => {
      if (SAFE_METHODS.has(req.method)) return;
      if (req.routeOptions.config?.csrf === false) return;
      const origin = req.headers.origin ?? (req.headers.referer ? safeOrigin(req.headers.referer) : undefined);
      if (origin !== undefined && !sameOrigin(req, config, origin)) throw new AppError('BAD_ORIGIN');
      const body = req.body as Record<string, unknown> | undefined;
      const token = req.headers['x-csrf-token'] ?? (body && typeof body === 'object' ? body._csrf : undefined);
      if (!app.verifyCsrf(req, token)) throw new AppError('CSRF');
    });

    // Pages of a signed-in resident never land in a shared cache or the back-forward cache of another person.
    app.addHook('onSend', async (req, reply, payload) => {
      if ((req.user || req.session) && !reply.hasHeader('cache-control')) reply.header('Cache-Control', 'no-store');
      else if (!reply.hasHeader('cache-control') && String(reply.getHeader('content-type') ?? '').startsWith('text/html')) reply.header('Cache-Control', 'no-cache');
      return payload;
    });
  },
  { name: 'noper-security', dependencies: ['noper-session'] },
);

function safeOrigin(referer: string): string {
  try {
    return new URL(referer).origin;
  } catch {
    return 'null';
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    isOwnOrigin(req: FastifyRequest, origin: string): boolean;
  }
  interface FastifyContextConfig {
    /** false only for routes that cannot carry a token (none in the core) */
    csrf?: boolean;
  }
}
