// FeatureContext: everything a feature plugin may use of the core, bound to the plugin's id.
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely, Transaction } from 'kysely';
import type { Lang } from '../config.ts';
import type { Engine } from '../db/dialect.ts';
import { AppError } from '../errors.ts';
import type { I18n, TFunction } from '../infra/i18n.ts';
import type { PageData } from '../infra/view.ts';
import type { JobHandler, JobService, ScheduleOptions } from '../core/jobs/jobs.service.ts';
import type { MailMessage, MailService } from '../core/mail/mail.service.ts';
import type { RealtimeService } from '../core/realtime/realtime.service.ts';
import type { CoreEvents, EventBus, EventName, Listener } from './events.ts';
import type { AccessLevel, FeatureDefinition } from './manifest.ts';
import type { FeatureState } from './state.ts';
import { hasAccess } from './access.ts';

export interface FeatureContext {
  readonly id: string;
  readonly db: Kysely<any>;
  readonly engine: Engine;
  /** Runs fn in a transaction; events emitted inside are delivered only after the commit. */
  transaction<T>(fn: (trx: Transaction<any>) => Promise<T>): Promise<T>;
  /** Translates in the plugin's namespace (core namespaces reachable as `common:key`). */
  t(lang: Lang, key: string, options?: Record<string, unknown>): string;
  /** The plugin's translator for a request's language. */
  tr(req: FastifyRequest): TFunction;
  guards: {
    /** preHandler: the signed-in user is a verified member (of `:slug` when the route has one). */
    member: (req: FastifyRequest) => Promise<void>;
    /** preHandler factory: the user holds the manifest's permission. */
    can: (permission: string) => (req: FastifyRequest) => Promise<void>;
  };
  /** Renders `views/<name>` of the plugin (full page or htmx fragment). */
  render(reply: FastifyReply, view: string, data?: PageData, status?: number): Promise<FastifyReply>;
  events: {
    emit<E extends EventName>(name: E, payload: CoreEvents[E]): void;
    on<E extends EventName>(name: E, fn: Listener<E>): void;
  };
  realtime: { publish(channel: string, html: string): Promise<void> };
  jobs: {
    define(name: string, handler: JobHandler): void;
    schedule(name: string, payload?: unknown, opts?: ScheduleOptions): Promise<boolean>;
    every(name: string, cron: string, handler: JobHandler): void;
  };
  mail: { send(msg: MailMessage): Promise<void> };
  /** The plugin's settings for a neighbourhood (or commune-wide). */
  settings(neighborhoodId?: string): Record<string, unknown>;
  /** Is the plugin on for this neighbourhood (or commune-wide)? */
  isEnabled(neighborhoodId?: string): boolean;
  readonly log: FastifyBaseLogger;
}

export interface ContextDeps {
  db: Kysely<any>;
  engine: Engine;
  i18n: I18n;
  bus: EventBus;
  state: FeatureState;
  jobs: JobService;
  mail: MailService;
  realtime: RealtimeService;
  log: FastifyBaseLogger;
}

export function createContext(def: FeatureDefinition, viewsDir: string, deps: ContextDeps): FeatureContext {
  const id = def.manifest.id;
  const perms = def.manifest.permissions ?? {};
  const scoped = (name: string) => `${id}.${name}`;
  const activeFor = (p: unknown) => deps.state.isEnabled(id, (p as { neighborhoodId?: string })?.neighborhoodId);
  return {
    id,
    db: deps.db,
    engine: deps.engine,
    transaction: (fn) => deps.bus.deferUntilCommit(() => deps.db.transaction().execute(fn)),
    t: (lang, key, options) => String(deps.i18n.getFixedT(lang, id)(key, options as never)),
    tr: (req) => deps.i18n.getFixedT(req.lang, id),
    guards: {
      member: async (req) => {
        if (!hasAccess(req, 'member')) throw new AppError(req.user ? 'NOT_FOUND' : 'UNAUTHENTICATED');
      },
      can: (permission) => {
        const levels: AccessLevel[] | undefined = perms[permission];
        if (!levels) throw new Error(`plugin ${id} has no permission "${permission}" in its manifest`);
        return async (req) => {
          if (!levels.some((l) => hasAccess(req, l))) throw new AppError(req.user ? 'FORBIDDEN' : 'UNAUTHENTICATED');
        };
      },
    },
    render: (reply, view, data, status) => reply.render(`${viewsDir}/${view}`, { ...data, _ns: id }, status),
    events: {
      emit: (name, payload) => deps.bus.emit(name, payload),
      on: (name, fn) => deps.bus.on(name, fn, id, activeFor),
    },
    realtime: { publish: (channel, html) => deps.realtime.publish(channel, html) },
    jobs: {
      define: (name, handler) => deps.jobs.define(scoped(name), async (p, j) => (deps.state.communeEnabled(id) ? handler(p, j) : undefined)),
      schedule: (name, payload, opts) => deps.jobs.schedule(scoped(name), payload, opts && { ...opts, key: opts.key && scoped(opts.key) }),
      every: (name, cron, handler) => deps.jobs.every(scoped(name), cron, async (p, j) => (deps.state.communeEnabled(id) ? handler(p, j) : undefined)),
    },
    mail: { send: (msg) => deps.mail.send(msg) },
    settings: (neighborhoodId) => deps.state.settings(id, neighborhoodId),
    isEnabled: (neighborhoodId) => deps.state.isEnabled(id, neighborhoodId),
    log: deps.log.child({ plugin: id }),
  };
}
