// GET /: the first-run page on an empty install, the login page for visitors, the verified resident's board, or the status page of one still waiting.
import type { FastifyInstance } from 'fastify';
import { hasAdmin } from '../auth/auth.service.ts';
import { formatAddress } from '../addresses/normalize.ts';
import { residentStatus } from '../verification/verification.service.ts';
import { verificationSettings } from '../verification/verification-settings.ts';
import { vouchCount } from '../verification/vouch.service.ts';

export default async function homeRoutes(app: FastifyInstance) {
  let installed = false; // once an admin exists it never goes back to first-run (shown to visitors only)

  app.get('/', { config: { access: 'public' } }, async (req, reply) => {
    if (!req.user) {
      installed ||= await hasAdmin(app.db);
      if (!installed) return reply.render('views/pages/first-run', { title: req.t('common:firstRun.title') });
      return reply.render('views/pages/login', { title: req.t('auth:login.title'), email: '', next: '/' });
    }
    // A signed-in resident gets their own page even before the commune has an administrator.
    const home = req.memberships.find((m) => m.verified);
    if (req.user.role === 'admin') return reply.render('views/pages/home', { title: req.t('common:home.title'), neighborhood: home?.name, pending: !home });
    if (home) return reply.redirect(`/n/${encodeURIComponent(home.slug)}`, 303);
    // Until verified: where they stand and how to get verified; nothing of any neighbourhood.
    const status = await residentStatus(app.db, req.user);
    const settings = await verificationSettings(app.db);
    const waiting = req.memberships.find((m) => !m.verified);
    const canVerify = !!status.address && !status.unassigned && status.address.retired_at === null;
    return reply.render('views/pages/status', {
      title: req.t('auth:status.title'),
      address: status.address ? formatAddress(status.address) : undefined,
      unassigned: status.unassigned,
      canVerify,
      // The ways the commune has switched on; nothing is offered that would be refused.
      canUseCode: canVerify && settings.methods.includes('letter'),
      vouchOn: canVerify && !!waiting && settings.methods.includes('vouch'),
      counterOn: canVerify && settings.methods.includes('counter'),
      vouchesNeeded: settings.vouches,
      vouches: waiting ? await vouchCount(app.db, req.user.id, waiting.neighborhoodId) : 0,
      codeRejected: status.codeRejectedAt !== undefined,
      locked: status.locked,
    });
  });
}
