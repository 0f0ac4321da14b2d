// Logging in and out, and the language switch of signed-in residents.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LANG_COOKIE } from '../../infra/session.ts';
import { isLang } from '../../infra/i18n.ts';
import { accountKey, hit, tooManyAttempts, undo } from '../../infra/rate-limit.ts';
import { authenticate } from './auth.service.ts';
import { normalizeEmail, setUserLang } from './users.repository.ts';

/** Failed logins per e-mail address (registered or not), whatever client addresses they come from. */
const LOGIN_FAILURES_MAX = 10;
const LOGIN_WINDOW_MS = 15 * 60_000;

/** Messages a redirect to /login may ask for; only these keys reach the page. */
const LOGIN_NOTICES: Record<string, string> = { reset: 'auth:reset.done', registered: 'auth:register.done' };

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

function renderLogin(req: FastifyRequest, reply: FastifyReply, data: { email?: string; next?: string; error?: string; notice?: string }, status = 200) {
  return reply.render('views/pages/login', { title: req.t('auth:login.title'), email: data.email ?? '', next: safeNext(data.next), error: data.error, notice: data.notice }, status);
}

export default async function authRoutes(app: FastifyInstance) {
  app.get('/login', { config: { access: 'public' } }, async (req, reply) => {
    // Signed in already, the form still shows (logging in switches the account); the page says who is signed in.
    const { next, done } = req.query as { next?: string; done?: string };
    const notice = typeof done === 'string' && Object.hasOwn(LOGIN_NOTICES, done) ? req.t(LOGIN_NOTICES[done]!) : undefined;
    return renderLogin(req, reply, { next, notice });
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
      // Counted before the password is checked, so parallel guesses cannot slip past the limit; a success takes its count back.
      const key = accountKey('login', normalizeEmail(email));
      const count = await hit(app.db, key, LOGIN_FAILURES_MAX, LOGIN_WINDOW_MS);
      if (count.limited) throw tooManyAttempts(count.retryAfterMs);
      const user = await authenticate(app.db, email, body.password);
      if (!user) return renderLogin(req, reply, { email, next: body.next, error: req.t('errors:loginFailed') }, 401);
      await undo(app.db, key);
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
