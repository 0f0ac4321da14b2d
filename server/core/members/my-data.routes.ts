// GET /account/data, POST /account/data/export (a zip of everything stored about me), POST /account/data/delete (erase my account).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { verifyPassword } from '../auth/passwords.ts';
import { collectMyData, eraseAccount, exportZip } from './my-data.service.ts';

const deleteSchema = { body: { type: 'object', properties: { password: { type: 'string', maxLength: 4096 }, _csrf: { type: 'string' } } } } as const;

/** YYYY-MM-DD of the commune's calendar (the day the resident sees on their own clock). */
export function communeDay(timeZone: string, at = new Date()): string {
  const parts = new Intl.DateTimeFormat('en', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

function renderMyData(req: FastifyRequest, reply: FastifyReply, error?: string, status = 200) {
  return reply.render('views/pages/my-data', { title: req.t('auth:mydata.title'), error }, status);
}

export default async function myDataRoutes(app: FastifyInstance) {
  app.get('/account/data', { config: { access: 'authenticated' } }, async (req, reply) => renderMyData(req, reply));

  // A POST (not a link): the download carries the CSRF token and never lands in a shared cache or browser history.
  app.post('/account/data/export', { config: { access: 'authenticated', rateLimit: { max: 10, timeWindow: 60_000 } } }, async (req, reply) => {
    const now = new Date();
    const data = await collectMyData(app.db, req.user!.id, req.session!.id, now.getTime());
    const day = communeDay(app.config.tzCommune, now);
    const readme = req.t('auth:mydata.readme', { date: day, url: `${app.config.baseUrl}/account/data` });
    const zip = await exportZip(data, readme, now);
    return reply
      .type('application/zip')
      .header('Content-Disposition', `attachment; filename="noper-my-data-${day}.zip"`)
      .send(zip);
  });

  app.post(
    '/account/data/delete',
    // As strict as login: this form checks a password.
    { schema: deleteSchema, config: { access: 'authenticated', rateLimit: { max: 10, timeWindow: 10 * 60_000 } } },
    async (req, reply) => {
      const { password } = (req.body ?? {}) as { password?: string };
      const user = req.user!;
      if (!password) return renderMyData(req, reply, req.t('errors:passwordRequired'), 400);
      if (!(await verifyPassword(user.password_hash, password.slice(0, 1024)))) return renderMyData(req, reply, req.t('auth:mydata.error.passwordWrong'), 400);
      const ended = await app.transaction(async (trx) => {
        const ids = await eraseAccount(trx, user.id);
        app.bus.emit('user.deleted', { userId: user.id });
        return ids;
      });
      for (const id of ended) await app.realtime.closeSession(id);
      await app.endSession(req, reply);
      return reply.redirect('/account/data/deleted', 303);
    },
  );

  // Where the erased resident lands: nothing of theirs is left to show, so the page is the same for everyone.
  app.get('/account/data/deleted', { config: { access: 'public' } }, async (req, reply) => {
    return reply.render('views/pages/account-deleted', { title: req.t('auth:mydata.deleted.title') });
  });
}
