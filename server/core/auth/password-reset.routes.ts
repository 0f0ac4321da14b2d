// Forgotten password: GET/POST /password/forgot sends a one-use link by e-mail (same answer for every address); GET/POST /password/reset sets the new password.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { accountKey, hit, tooManyAttempts } from '../../infra/rate-limit.ts';
import { SESSION_COOKIE } from '../../infra/session.ts';
import { mailContext } from './user-mail.ts';
import { emailProblem } from './auth.service.ts';
import { createResetToken, findUsableReset, RESET_LIFETIME_MS, resetPassword } from './password-reset.service.ts';
import { findUserByEmail, findUserById, normalizeEmail } from './users.repository.ts';

export const RESET_MAIL_JOB = 'auth.password-reset-mail';

/** Requests per e-mail address (registered or not) and per client address. */
const PER_EMAIL_MAX = 5;
const PER_EMAIL_WINDOW_MS = 60 * 60_000;
const PER_IP = { max: 10, timeWindow: 15 * 60_000 };

const str = { type: 'string', maxLength: 4096 } as const;
const forgotSchema = { body: { type: 'object', properties: { email: str, _csrf: str } } } as const;
const resetSchema = { body: { type: 'object', properties: { token: { type: 'string', maxLength: 200 }, password: str, _csrf: str } } } as const;

/** The token travels in the page: never stored by a cache, never sent on as a Referer. */
function privatePage(reply: FastifyReply): void {
  reply.header('Cache-Control', 'no-store');
  reply.header('Referrer-Policy', 'no-referrer');
}

function renderForgot(req: FastifyRequest, reply: FastifyReply, data: { email?: string; error?: string; sent?: boolean }, status = 200) {
  return reply.render('views/pages/password-forgot', { title: req.t('auth:reset.forgot.title'), email: data.email ?? '', error: data.error, sent: data.sent, minutes: Math.round(RESET_LIFETIME_MS / 60_000) }, status);
}

function renderReset(req: FastifyRequest, reply: FastifyReply, data: { token?: string; error?: string }, status = 200) {
  privatePage(reply);
  if (data.token === undefined) return reply.render('views/pages/password-reset', { title: req.t('auth:reset.invalid.title'), invalid: true }, status);
  return reply.render('views/pages/password-reset', { title: req.t('auth:reset.form.title'), token: data.token, error: data.error }, status);
}

export default async function passwordResetRoutes(app: FastifyInstance) {
  // The link is made here, not in the request: answering takes the same time whether or not the account exists.
  app.jobs.define(RESET_MAIL_JOB, async (payload: { userId: string | null; lang?: string }) => {
    if (!payload.userId) return; // nobody has that address: nothing to send
    const user = await findUserById(app.db, payload.userId);
    if (!user || user.disabled_at !== null) return;
    const token = await createResetToken(app.db, user.id);
    const { t, commune } = await mailContext(app, user, payload.lang);
    await app.mail.send({
      to: user.email,
      subject: t('reset.mail.subject', { commune }),
      text: t('reset.mail.text', {
        name: user.name,
        commune,
        url: `${app.config.baseUrl}/password/reset?token=${encodeURIComponent(token)}`,
        minutes: Math.round(RESET_LIFETIME_MS / 60_000),
        forgotUrl: `${app.config.baseUrl}/password/forgot`,
      }),
    });
  });

  app.get(
    '/password/forgot',
    { schema: { querystring: { type: 'object', properties: { sent: { type: 'string', maxLength: 5 } } } }, config: { access: 'public' } },
    async (req, reply) => renderForgot(req, reply, { sent: (req.query as { sent?: string }).sent === '1' }),
  );

  app.post('/password/forgot', { schema: forgotSchema, config: { access: 'public', rateLimit: PER_IP } }, async (req, reply) => {
    const email = normalizeEmail(((req.body ?? {}) as { email?: string }).email ?? '').slice(0, 320);
    const problem = emailProblem(email);
    if (problem) return renderForgot(req, reply, { email, error: req.t(`errors:${problem}`) }, 400);
    const count = await hit(app.db, accountKey('password-reset', email), PER_EMAIL_MAX, PER_EMAIL_WINDOW_MS);
    if (count.limited) throw tooManyAttempts(count.retryAfterMs);
    const user = await findUserByEmail(app.db, email);
    // A job either way (one lookup, one insert): neither the answer nor its timing tells whether the address is registered.
    await app.jobs.schedule(RESET_MAIL_JOB, { userId: user && user.disabled_at === null ? user.id : null, lang: req.lang });
    return reply.redirect('/password/forgot?sent=1', 303);
  });

  app.get(
    '/password/reset',
    { schema: { querystring: { type: 'object', properties: { token: { type: 'string', maxLength: 200 } } } }, config: { access: 'public', rateLimit: { max: 30, timeWindow: 15 * 60_000 } } },
    async (req, reply) => {
      const token = (req.query as { token?: string }).token;
      if (!(await findUsableReset(app.db, token))) return renderReset(req, reply, {}, 400);
      return renderReset(req, reply, { token });
    },
  );

  app.post('/password/reset', { schema: resetSchema, config: { access: 'public', rateLimit: { max: 20, timeWindow: 15 * 60_000 } } }, async (req, reply) => {
    const { token, password } = (req.body ?? {}) as { token?: string; password?: string };
    const outcome = await resetPassword(app.db, app.sessions, token, password ?? '');
    if (outcome.kind === 'invalid') return renderReset(req, reply, {}, 400);
    if (outcome.kind === 'weak') return renderReset(req, reply, { token, error: req.t(outcome.key) }, 400);
    for (const id of outcome.endedSessions) await app.realtime.closeSession(id);
    // This browser's own session of that account ended with the others.
    if (req.session?.user_id === outcome.userId) reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.redirect('/login?done=reset', 303);
  });
}
