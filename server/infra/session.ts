// onRequest: session cookie -> user and memberships, then the reader's language; CSRF tokens bound to the session.
import { createHmac, timingSafeEqual } from 'node:crypto';
import fp from 'fastify-plugin';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config, Lang } from '../config.ts';
import type { Db, MembershipRole, Session, User } from '../db/database.ts';
import { randomToken } from '../ids.ts';
import { SessionService } from '../core/auth/sessions.service.ts';
import { deviceLabel } from '../core/auth/device-label.ts';
import { getOrCreateSecret } from '../core/settings/settings.repository.ts';
import { negotiate, type I18n, type TFunction } from './i18n.ts';

export const SESSION_COOKIE = 'noper_session';
export const ANON_COOKIE = 'noper_anon';
export const LANG_COOKIE = 'lang';

export interface MembershipInfo {
  neighborhoodId: string;
  slug: string;
  name: string;
  role: MembershipRole;
  verified: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    user: User | null;
    session: Session | null;
    memberships: MembershipInfo[];
    lang: Lang;
    t: TFunction;
    /** The CSRF token for this visitor (creates the anonymous binding cookie when needed). */
    csrfToken(): string;
  }
  interface FastifyInstance {
    sessions: SessionService;
    startSession(reply: FastifyReply, userId: string): Promise<void>;
    endSession(req: FastifyRequest, reply: FastifyReply): Promise<void>;
    verifyCsrf(req: FastifyRequest, token: unknown): boolean;
  }
}

export async function loadMemberships(db: Db, userId: string): Promise<MembershipInfo[]> {
  const rows = await db
    .selectFrom('memberships')
    .innerJoin('neighborhoods', 'neighborhoods.id', 'memberships.neighborhood_id')
    .select(['memberships.neighborhood_id', 'memberships.role', 'memberships.verified_at', 'neighborhoods.slug', 'neighborhoods.name'])
    .where('memberships.user_id', '=', userId)
    .orderBy('neighborhoods.name')
    .execute();
  return rows.map((r) => ({ neighborhoodId: r.neighborhood_id, slug: r.slug, name: r.name, role: r.role, verified: r.verified_at !== null }));
}

type RequestWithReply = FastifyRequest & { replyRef?: FastifyReply };

export default fp(
  async (app, opts: { config: Config; db: Db; i18n: I18n }) => {
    const { config, db, i18n } = opts;
    const sessions = new SessionService(db, { inactivityDays: config.sessionInactivityDays, maxDays: config.sessionMaxDays });
    const csrfKey = await getOrCreateSecret(db, 'csrf');
    const cookieBase = { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: config.secureCookies };

    const sign = (binding: string) => createHmac('sha256', csrfKey).update(binding).digest('base64url');
    const binding = (req: FastifyRequest): string | undefined =>
      req.session ? `s:${req.session.id}` : req.cookies[ANON_COOKIE] ? `a:${req.cookies[ANON_COOKIE]}` : undefined;

    app.decorate('sessions', sessions);
    app.decorateRequest('user', null);
    app.decorateRequest('session', null);
    app.decorateRequest('memberships', null as unknown as MembershipInfo[]);
    app.decorateRequest('lang', null as unknown as Lang);
    app.decorateRequest('t', null as unknown as TFunction);
    app.decorateRequest('csrfToken', function (this: FastifyRequest) {
      let b = binding(this);
      if (!b) {
        const anon = randomToken();
        this.cookies[ANON_COOKIE] = anon; // later calls in this request see it
        (this as RequestWithReply).replyRef?.setCookie(ANON_COOKIE, anon, cookieBase);
        b = `a:${anon}`;
      }
      return sign(b);
    });

    app.decorate('verifyCsrf', (req: FastifyRequest, token: unknown) => {
      const b = binding(req);
      if (!b || typeof token !== 'string' || token.length > 100) return false;
      const want = Buffer.from(sign(b));
      const got = Buffer.from(token);
      return want.length === got.length && timingSafeEqual(want, got);
    });

    app.decorate('startSession', async (reply: FastifyReply, userId: string) => {
      // A short browser and system name for the resident's list of sessions; the raw User-Agent is not kept.
      const { token } = await sessions.create(userId, Date.now(), deviceLabel(reply.request.headers['user-agent']));
      reply.setCookie(SESSION_COOKIE, token, { ...cookieBase, maxAge: config.sessionInactivityDays * 86400 });
      reply.clearCookie(ANON_COOKIE, { path: '/' });
    });

    app.decorate('endSession', async (req: FastifyRequest, reply: FastifyReply) => {
      if (req.session) await sessions.invalidate(req.session.id);
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
    });

    app.addHook('onRequest', async (req, reply) => {
      // The anonymous CSRF binding cookie is set only on responses whose page asked for a token.
      (req as RequestWithReply).replyRef = reply;
      req.memberships = [];
      const token = req.cookies[SESSION_COOKIE];
      if (token) {
        const valid = await sessions.validate(token);
        if (valid) {
          // A session extended by use keeps its cookie alive too (else a daily user is logged out N days after login).
          if (valid.extended) reply.setCookie(SESSION_COOKIE, token, { ...cookieBase, maxAge: config.sessionInactivityDays * 86400 });
          req.session = valid.session;
          req.user = valid.user;
          req.memberships = await loadMemberships(db, valid.user.id);
        } else {
          reply.clearCookie(SESSION_COOKIE, { path: '/' });
        }
      }
      const query = (req.query as Record<string, unknown> | undefined)?.lang;
      req.lang = negotiate({
        query,
        user: req.user?.lang,
        cookie: req.cookies[LANG_COOKIE],
        acceptLanguage: req.headers['accept-language'],
        fallback: config.defaultLang,
      });
      if (typeof query === 'string' && query === req.lang && req.cookies[LANG_COOKIE] !== query) {
        reply.setCookie(LANG_COOKIE, query, { path: '/', sameSite: 'lax', secure: config.secureCookies, maxAge: 365 * 86400 });
      }
      req.t = i18n.getFixedT(req.lang);
    });

  },
  { name: 'noper-session', dependencies: ['@fastify/cookie'] },
);
