// Logging in and out, and the language switch of signed-in residents.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LANG_COOKIE } from '../../infra/session.ts';
import { isLang } from '../../infra/i18n.ts';
import { authenticate } from './auth.service.ts';
import { setUserLang } from './users.repository.ts';

/** Only our own paths: never an absolute URL or //host (open redirect). Browsers drop tabs and newlines inside URLs ("/\t/host" is "//host"), so no control characters either. */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || next.length > 500) return '/';
  // Printable ASCII only: control characters (see above), and raw non-ASCII would not fit in a Location header.
  if (!/^[\x21-\x7e]*$/.test(next)) return '/';
  return next;
}

const loginSchema = {
  body: {
    type: 'object',
    // No length limits here: an oversized value is a failed login with the form kept, not a bare 400 page.
    properties: { email: { type: 'string' }, password: { type: 'string' }, next: { type: 'string' }, _csrf: { type: 'string' } },
  },
} as const;

function renderLogin(req: FastifyRequest, reply: FastifyReply, data: { email?: string; next?: string; error?: string }, status = 200) {
  return reply.render('views/pages/login', { title: req.t('auth:login.title'), email: data.email ?? '', next: safeNext(data.next), error: data.error }, status);
}

export default async function authRoutes(app: FastifyInstance) {
  app.get('/login', { config: { access: 'public' } }, async (req, reply) => {
    // Signed in already, the form still shows (logging in switches the account); the page says who is signed in.
    return renderLogin(req, reply, { next: (req.query as { next?: string }).next });
  });

  app.post(
    '/login',
    { schema: loginSchema, config: { access: 'public', rateLimit: { max: 20, timeWindow: 60_000 } } },
    async (req, reply) => {
      const body = (req.body ?? {}) as { email?: string; password?: string; next?: string };
      const email = (body.email ?? '').slice(0, 320);
      if (!email.trim() || !body.password) {
        return renderLogin(req, reply, { email, next: body.next, error: req.t(!email.trim() ? 'errors:emailRequired' : 'errors:passwordRequired') }, 400);
      }
      const user = await authenticate(app.db, email, body.password);
      if (!user) return renderLogin(req, reply, { email, next: body.next, error: req.t('errors:loginFailed') }, 401);
      // A fresh session on every login: no fixation of an earlier cookie.
      if (req.session) await app.sessions.invalidate(req.session.id);
      await app.startSession(reply, user.id);
      return reply.redirect(safeNext(body.next), 303);
    },
  );

  app.post('/logout', { config: { access: 'authenticated' } }, async (req, reply) => {
    const sessionId = req.session!.id;
    await app.endSession(req, reply);
    await app.realtime.closeSession(sessionId);
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
