// buildApp(config): the whole Noper server, infrastructure first, then the core areas, then the feature plugins. No listen, no env reads.
import path from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import compress from '@fastify/compress';
import websocket from '@fastify/websocket';
import fastifyStatic from '@fastify/static';
import { constants as zlib } from 'node:zlib';
import type { Config } from './config.ts';
import { connect, listenPeers, type DbHandle, type Engine } from './db/dialect.ts';
import type { Db, Trx } from './db/database.ts';
import { migrateUp } from './db/migrator.ts';
import { coreMigrations } from '../migrations/index.ts';
import { EventBus } from './features/events.ts';
import { FeatureState, PEER_CHANNEL } from './features/state.ts';
import { assertFeatureOn, migrateFeatures, navigation, registerFeatures } from './features/registry.ts';
import { assertDeclared, hasAccess } from './features/access.ts';
import type { AccessLevel, FeatureDefinition } from './features/manifest.ts';
import { AppError } from './errors.ts';
import { createI18n, type I18n } from './infra/i18n.ts';
import sessionInfra from './infra/session.ts';
import securityInfra from './infra/security.ts';
import viewInfra, { languageChoices } from './infra/view.ts';
import errorsInfra from './infra/errors.ts';
import metricsInfra, { createMetrics } from './infra/metrics.ts';
import { JobService } from './core/jobs/jobs.service.ts';
import { MailService } from './core/mail/mail.service.ts';
import { RealtimeService, REALTIME_CHANNEL } from './core/realtime/realtime.service.ts';
import realtimeRoutes from './core/realtime/realtime.routes.ts';
import authRoutes from './core/auth/auth.routes.ts';
import registrationRoutes from './core/auth/registration.routes.ts';
import accountRoutes from './core/auth/account.routes.ts';
import passwordResetRoutes from './core/auth/password-reset.routes.ts';
import addressRoutes from './core/addresses/addresses.routes.ts';
import verificationRoutes from './core/verification/verification.routes.ts';
import vouchRoutes from './core/verification/vouch.routes.ts';
import counterRoutes from './core/verification/counter.routes.ts';
import movingRoutes from './core/moving/moving.routes.ts';
import adminMemberRoutes from './core/admin/members.routes.ts';
import boardRoutes from './core/board/board.routes.ts';
import membersRoutes from './core/members/members.routes.ts';
import homeRoutes from './core/home/home.routes.ts';
import adminPluginRoutes from './core/admin/plugins.routes.ts';
import adminNeighborhoodRoutes from './core/admin/neighborhoods.routes.ts';
import healthRoutes from './core/health/health.routes.ts';
import { getSetting } from './core/settings/settings.repository.ts';
import { PUBLIC_DIR, ROOT } from './paths.ts';
import { installedFeatures } from '../plugins/index.ts';

export interface RouteInfo {
  readonly method: string;
  readonly url: string;
  readonly access: AccessLevel;
  readonly feature: string | undefined;
  readonly websocket: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every registered route with its access level (the access-matrix test walks it). */
    routeTable: RouteInfo[];
    config: Config;
    db: Db;
    engine: Engine;
    i18n: I18n;
    bus: EventBus;
    features: FeatureState;
    jobs: JobService;
    mail: MailService;
    realtime: RealtimeService;
    transaction<T>(fn: (trx: Trx) => Promise<T>): Promise<T>;
  }
}

export interface BuildOptions {
  /** The feature plugins to install; default: plugins/index.ts (tests add their own). */
  features?: FeatureDefinition[];
  /** Start the job runner loop (the server does; most tests drive jobs by hand). */
  runJobs?: boolean;
  /** pino options or false; default: JSON logs at config.logLevel */
  logger?: boolean | object;
}

/** Applies the core's and every plugin's pending migrations. */
export async function migrateAll(db: Db, features: FeatureDefinition[] = installedFeatures): Promise<void> {
  await migrateUp(db, coreMigrations);
  await migrateFeatures(db, features);
}

export async function buildApp(config: Config, opts: BuildOptions = {}): Promise<FastifyInstance> {
  const metrics = createMetrics();
  let log: { warn: (o: object, m: string) => void } | undefined;
  const handle: DbHandle = connect({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    onQuery: metrics.onQuery,
    onPoolError: (err) => log?.warn({ err }, 'an idle database connection failed; the pool replaces it'),
  });
  try {
    const app = await assemble(config, opts, handle, metrics);
    log = app.log;
    return app;
  } catch (err) {
    // A refused boot (bad manifest, route without access, failed migration) must not leave the pool holding the process open.
    await handle.close();
    throw err;
  }
}

async function assemble(config: Config, opts: BuildOptions, handle: DbHandle, metrics: ReturnType<typeof createMetrics>): Promise<FastifyInstance> {
  const features = opts.features ?? installedFeatures;
  const app = Fastify({
    logger: opts.logger ?? { level: config.logLevel, redact: ['req.headers.cookie', 'req.headers.authorization', 'req.headers["x-csrf-token"]'], serializers: { req: requestForLog } },
    trustProxy: config.trustProxy as boolean | string, // a hop count is accepted too
    bodyLimit: 1024 * 1024,
    requestIdHeader: false,
    // Unique across processes: the id shown on an error page finds the one log line.
    genReqId: () => randomUUID(),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    forceCloseConnections: 'idle',
  });

  await migrateAll(handle.db, features);

  const i18n = await createI18n();
  const bus = new EventBus(app.log);
  const state = new FeatureState(handle, features);
  state.onSwitch = (e) => bus.emit('feature.switched', e);
  await state.refresh();
  const jobs = new JobService(handle.db, handle.engine, app.log, config.tzCommune);
  const mail = new MailService(config);
  const realtime = new RealtimeService(handle, app.log);
  const communeName = (await getSetting<string>(handle.db, 'commune.name')) ?? config.communeName;

  app.decorate('config', config);
  app.decorate('db', handle.db);
  app.decorate('engine', handle.engine);
  app.decorate('i18n', i18n);
  app.decorate('bus', bus);
  app.decorate('features', state);
  app.decorate('jobs', jobs);
  app.decorate('mail', mail);
  app.decorate('realtime', realtime);
  // Core services write through this: events emitted inside reach listeners only after the commit.
  app.decorate('transaction', <T>(fn: (trx: Trx) => Promise<T>) => bus.deferUntilCommit(() => handle.db.transaction().execute(fn)));

  // Every route must say who may call it; checked before any route exists, so a missing declaration stops the boot.
  const routeTable: RouteInfo[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (route) => {
    assertDeclared(route.method, route.url, route.config?.access);
    for (const method of [route.method].flat()) {
      const config = route.config!; // plugin contexts add `feature` to this same object after this hook
      routeTable.push({
        method,
        url: route.url,
        websocket: !!(route as { websocket?: boolean }).websocket,
        get access() {
          return config.access!;
        },
        get feature() {
          return config.feature;
        },
      });
    }
  });

  // Plumbing: cookies before sessions, form bodies for no-JS forms, compression for every text response.
  await app.register(cookie);
  await app.register(formbody, { bodyLimit: 256 * 1024 });
  await app.register(compress, {
    encodings: ['br', 'gzip'],
    threshold: 1024,
    brotliOptions: { params: { [zlib.BROTLI_PARAM_QUALITY]: 4 } },
  });
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  await app.register(fastifyStatic, { root: PUBLIC_DIR, serve: false, preCompressed: true });
  await app.register(metricsInfra, { metrics, pool: handle.pool, sockets: () => realtime.connections });

  // Request flow: session -> user, memberships, language; security headers (so refusals carry them too); then the plugin gate and the route's access level.
  await app.register(sessionInfra, { config, db: handle.db, i18n });
  await app.register(securityInfra, { config, db: handle.db });
  app.addHook('onRequest', async (req) => {
    const access = req.routeOptions.config?.access;
    if (!access) return; // 404 handler
    await state.refresh();
    assertFeatureOn(app, req);
    if (!hasAccess(req, access)) {
      if (!req.user) throw new AppError('UNAUTHENTICATED');
      // Another neighbourhood's page does not exist for this reader.
      throw new AppError(access === 'admin' ? 'FORBIDDEN' : 'NOT_FOUND');
    }
  });
  await app.register(viewInfra);
  await app.register(errorsInfra, { i18n, defaultLang: config.defaultLang });

  const htmxDir = path.join(ROOT, 'node_modules', 'htmx.org', 'dist');
  app.decorate('layoutData', async (req, reply) => {
    void reply;
    const t = req.t;
    return {
      lang: req.lang,
      timeZone: config.tzCommune,
      _t: t,
      communeName,
      user: req.user ? { name: req.user.name, isAdmin: req.user.role === 'admin' } : undefined,
      nav: req.user ? navigation(app, req) : [],
      csrf: req.csrfToken(),
      next: withoutLang(req.url),
      languages: languageChoices().map((l) => ({ ...l, current: l.code === req.lang, href: withLang(req.url, l.code) })),
      assetVersion: ASSET_VERSION,
      title: t('common:app.name'),
    };
  });

  // Static files: our CSS and icons, and htmx straight from its package (same origin, no CDN).
  app.get('/public/*', { config: { access: 'public' } }, async (req, reply) => {
    const file = (req.params as { '*': string })['*'];
    // Asset URLs carry ?v=ASSET_VERSION, so browsers may keep them for a week.
    const cache = { maxAge: '7d', cacheControl: true };
    if (file === 'vendor/htmx.min.js') return reply.sendFile('htmx.min.js', htmxDir, cache);
    return reply.sendFile(file, cache);
  });

  await app.register(healthRoutes);
  await app.register(homeRoutes);
  await app.register(authRoutes);
  await app.register(registrationRoutes);
  await app.register(accountRoutes);
  await app.register(passwordResetRoutes);
  await app.register(addressRoutes);
  await app.register(verificationRoutes);
  await app.register(vouchRoutes);
  await app.register(counterRoutes);
  await app.register(movingRoutes);
  await app.register(boardRoutes);
  await app.register(membersRoutes);
  await app.register(adminPluginRoutes);
  await app.register(adminNeighborhoodRoutes);
  await app.register(adminMemberRoutes);
  await app.register(realtimeRoutes);
  await registerFeatures(app, features, { db: handle.db, engine: handle.engine, i18n, bus, state, jobs, mail, realtime, log: app.log });

  const stopListening = listenPeers(
    handle,
    PEER_CHANNEL,
    () => state.invalidate(),
    () => state.invalidate(),
    (err) => app.log.warn({ err }, 'cache listener lost its connection; reconnecting'),
  );
  const stopRealtime = listenPeers(
    handle,
    REALTIME_CHANNEL,
    (payload) => realtime.fromPeer(payload),
    () => {},
    (err) => app.log.warn({ err }, 'realtime listener lost its connection; reconnecting'),
  );

  // Housekeeping: ended sessions, spent rate-limit windows and old finished jobs leave the database every hour.
  jobs.every('core.cleanup', '17 * * * *', async () => {
    const now = Date.now();
    const day = 86_400_000;
    await handle.db
      .deleteFrom('sessions')
      .where((eb) => eb.or([eb('last_seen_at', '<', now - config.sessionInactivityDays * day), eb('created_at', '<', now - config.sessionMaxDays * day)]))
      .execute();
    await handle.db.deleteFrom('rate_limits').where('reset_at', '<', now).execute();
    await handle.db.deleteFrom('jobs').where('done_at', '<', now - 30 * day).execute();
  });
  if (opts.runJobs) app.addHook('onReady', async () => jobs.start());
  // Each process checks its own sockets: a session that ended anywhere closes its live updates within a minute.
  let sweeper: NodeJS.Timeout | undefined;
  app.addHook('onReady', async () => {
    sweeper = setInterval(() => {
      realtime.sweep((ids) => app.sessions.alive(ids)).catch((err) => app.log.warn({ err }, 'socket sweep failed'));
    }, SOCKET_SWEEP_MS).unref();
  });
  app.addHook('preClose', async () => {
    if (sweeper) clearInterval(sweeper);
    realtime.closeAll();
  });
  app.addHook('onClose', async () => {
    await jobs.stop();
    await bus.drain();
    await stopListening();
    await stopRealtime();
    mail.close();
    await handle.close();
  });

  return app;
}

const SOCKET_SWEEP_MS = 30_000;

/** Changes whenever our CSS or the htmx version changes, so browsers fetch new assets (they are cached a week). */
export const ASSET_VERSION = createHash('sha256')
  .update(fs.readFileSync(path.join(PUBLIC_DIR, 'app.css')))
  .update(JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', 'htmx.org', 'package.json'), 'utf8')).version)
  .digest('hex')
  .slice(0, 10);

/** Fastify's request log fields, with the secret of a password reset link (?token=) left out of the URL. */
function requestForLog(req: FastifyRequest) {
  return {
    method: req.method,
    url: req.url.replace(/([?&]token=)[^&#]*/g, '$1[redacted]'),
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket ? req.socket.remotePort : undefined,
  };
}

/** The page to come back to after the language form: its own ?lang= would undo the choice. */
function withoutLang(url: string): string {
  const u = new URL(url, 'http://x');
  u.searchParams.delete('lang');
  return u.pathname + u.search;
}

function withLang(url: string, lang: string): string {
  const u = new URL(url, 'http://x');
  u.searchParams.set('lang', lang);
  return u.pathname + u.search;
}
