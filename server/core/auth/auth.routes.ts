// Logging in and out, and the language switch of signed-in residents.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LANG_COOKIE } from '../../infra/session.ts';
import { isLang } from '../../infra/i18n.ts';
import { authenticate } from './auth.service.ts';
import { setUserLang } from './users.repository.ts';

/** Only our own paths: never an absolute URL or //host (open redirect). Browsers drop tabs and newlines inside URLs ("/\t/host" is "//host"), so no control characters either. */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || next.length > 500) return '/';
  if (/[\u0000-\u001f\u007f]/.test(next)) return '/';
  return next;
}

const loginSchema = {
  body: {
    type: 'object',
    properties: { email: { type: 'string', maxLength: 320 }, password: { type: 'string', maxLength: 1024 }, next: { type: 'string', maxLength: 500 }, _csrf: { type: 'string' } },
  },
} as const;

function renderLogin(req: FastifyRequest, reply: FastifyReply, data: { email?: string; next?: string; error?: string }, status = 200) {
  return reply.render('views/pages/login', { title: req.t('auth:login.title'), email: data.email ?? '', next: safeNext(data.next), error: data.error }, status);
}

export default async function authRoutes(app: FastifyInstance) {
  app.get('/login', { config: { access: 'public' } }, async (req, reply) => {
    if (req.user) return reply.redirect(safeNext((req.query as { next?: string }).next), 303);
    return renderLogin(req, reply, { next: (req.query as { next?: string }).next });
  });

  app.post(
    '/login',
    { schema: loginSchema, config: { access: 'public', rateLimit: { max: 20, timeWindow: 60_000 } } },
    async (req, reply) => {
      const body = (req.body ?? {}) as { email?: string; password?: string; next?: string };
      const user = await authenticate(app.db, body.email ?? '', body.password ?? '');
      if (!user) return renderLogin(req, reply, { email: body.email, next: body.next, error: req.t('errors:loginFailed') }, 401);
      // A fresh session on every login: no fixation of an earlier cookie.
      if (req.session) await app.sessions.invalidate(req.session.id);
      await app.startSession(reply, user.id);
      return reply.redirect(safeNext(body.next), 303);
    },
  );

  app.post('/logout', { config: { access: 'authenticated' } }, async (req, reply) => {
    const sessionId = req.session!.id;
    await app.endSession(req, reply);
    app.realtime.closeSession(sessionId);
    return reply.redirect('/', 303);
  });

  // The language switch of a signed-in resident is a form: it changes their stored setting (GET never changes state).
  app.post(
    '/lang',
    { schema: { body: { type: 'object', properties: { lang: { type: 'string', maxLength: 5 }, next: { type: 'string', maxLength: 500 } } } }, config: { access: 'public' } },
    async (req, reply) => {
      const { lang, next } = (req.body ?? {}) as { lang?: string; next?: string };
      if (isLang(lang)) {
        if (req.user) await setUserLang(app.db, req.user.id, lang);
        reply.setCookie(LANG_COOKIE, lang, { path: '/', sameSite: 'lax', secure: app.config.secureCookies, maxAge: 365 * 86400 });
      }
      return reply.redirect(safeNext(next), 303);
    },
  );
}
