// GET /: the first-run page on an empty install, the login page for visitors, the resident's start page once signed in.
import type { FastifyInstance } from 'fastify';
import { hasAdmin } from '../auth/auth.service.ts';

export default async function homeRoutes(app: FastifyInstance) {
  let installed = false; // once an admin exists it never goes back to first-run

  app.get('/', { config: { access: 'public' } }, async (req, reply) => {
    installed ||= await hasAdmin(app.db);
    if (!installed) return reply.render('views/pages/first-run', { title: req.t('common:firstRun.title') });
    if (!req.user) return reply.render('views/pages/login', { title: req.t('auth:login.title'), email: '', next: '/' });
    const home = req.memberships.find((m) => m.verified);
    return reply.render('views/pages/home', { title: req.t('common:home.title'), neighborhood: home?.name, pending: !home });
  });
}
