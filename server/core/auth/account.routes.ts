// GET /account, the resident's hub: links to address, profile and data; their sessions (end one, end all others); the password change.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { accountKey, hit, tooManyAttempts, undo } from '../../infra/rate-limit.ts';
import { changePassword, endSessionByHandle, listSessions, type SessionEntry } from './account.service.ts';

/** Wrong current passwords per account before the form refuses (a stolen session must not become a password oracle). */
const CHANGE_FAILURES_MAX = 10;
const CHANGE_WINDOW_MS = 15 * 60_000;

/** The outcome of the last action, named in the redirect's query; only these keys ever reach the page. */
const NOTICES: Record<string, string> = {
  ended: 'auth:account.sessions.ended',
  others: 'auth:account.sessions.othersEnded',
  password: 'auth:account.password.changed',
};

const str = { type: 'string', maxLength: 4096 } as const;
const passwordSchema = { body: { type: 'object', properties: { current_password: str, new_password: str, _csrf: str } } } as const;
const endSchema = { body: { type: 'object', properties: { session: { type: 'string', maxLength: 100 }, _csrf: str } } } as const;

interface PasswordForm {
  error?: string;
  currentError?: string;
  newError?: string;
}

function deviceName(req: FastifyRequest, s: SessionEntry): string {
  if (s.browser && s.os) return req.t('auth:account.sessions.device', { browser: s.browser, os: s.os });
  return s.browser ?? s.os ?? req.t('auth:account.sessions.unknownDevice');
}

async function renderAccount(app: FastifyInstance, req: FastifyRequest, reply: FastifyReply, data: { notice?: string; password?: PasswordForm }, status = 200) {
  const sessions = (await listSessions(app.sessions, req.user!.id, req.session!.id)).map((s) => ({ ...s, device: deviceName(req, s) }));
  return reply.render(
    'views/pages/account',
    {
      title: req.t('auth:account.title'),
      email: req.user!.email,
      notice: data.notice,
      sessions,
      others: sessions.some((s) => !s.current),
      password: data.password ?? {},
    },
    status,
  );
}

export default async function accountRoutes(app: FastifyInstance) {
  app.get(
    '/account',
    { schema: { querystring: { type: 'object', properties: { done: { type: 'string', maxLength: 20 } } } }, config: { access: 'authenticated' } },
    async (req, reply) => {
      const done = (req.query as { done?: string }).done;
      const key = done && Object.hasOwn(NOTICES, done) ? NOTICES[done] : undefined;
      return renderAccount(app, req, reply, { notice: key ? req.t(key) : undefined });
    },
  );

  app.post('/account/sessions/end', { schema: endSchema, config: { access: 'authenticated' } }, async (req, reply) => {
    const handle = (req.body as { session?: string } | undefined)?.session ?? '';
    const ended = await endSessionByHandle(app.sessions, req.user!.id, handle);
    if (ended) await app.realtime.closeSession(ended);
    // This very session, ended from the list: the same as logging out.
    if (ended === req.session!.id) {
      await app.endSession(req, reply);
      return reply.redirect('/', 303);
    }
    return reply.redirect(ended ? '/account?done=ended' : '/account', 303);
  });

  app.post('/account/sessions/end-others', { config: { access: 'authenticated' } }, async (req, reply) => {
    const ended = await app.sessions.invalidateAllOf(req.user!.id, req.session!.id);
    for (const id of ended) await app.realtime.closeSession(id);
    return reply.redirect('/account?done=others', 303);
  });

  app.post(
    '/account/password',
    { schema: passwordSchema, config: { access: 'authenticated', rateLimit: { max: 20, timeWindow: CHANGE_WINDOW_MS } } },
    async (req, reply) => {
      const body = (req.body ?? {}) as { current_password?: string; new_password?: string };
      const user = req.user!;
      const key = accountKey('password-change', user.id);
      const count = await hit(app.db, key, CHANGE_FAILURES_MAX, CHANGE_WINDOW_MS);
      if (count.limited) throw tooManyAttempts(count.retryAfterMs);
      const outcome = await changePassword(app.db, app.sessions, user, body.current_password ?? '', body.new_password ?? '', req.session!.id);
      if (outcome.kind === 'wrongCurrent') {
        const message = req.t('auth:account.password.wrongCurrent');
        return renderAccount(app, req, reply, { password: { error: message, currentError: message } }, 400);
      }
      // Only a wrong current password counts against the account.
      await undo(app.db, key);
      if (outcome.kind === 'weak') {
        const message = req.t(outcome.key);
        return renderAccount(app, req, reply, { password: { error: message, newError: message } }, 400);
      }
      for (const id of outcome.endedSessions) await app.realtime.closeSession(id);
      return reply.redirect('/account?done=password', 303);
    },
  );
}
