// GET/POST /admin/plugins: the commune admin switches feature plugins on and off, live, without a restart.
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../errors.ts';

export default async function adminPluginRoutes(app: FastifyInstance) {
  const list = (t: (k: string, o?: object) => string) =>
    [...app.features.defs.values()].map((d) => ({
      id: d.manifest.id,
      name: t(`${d.manifest.id}:plugin.name`, { defaultValue: d.manifest.id }),
      description: t(`${d.manifest.id}:plugin.description`, { defaultValue: '' }),
      version: d.manifest.version,
      enabled: app.features.communeEnabled(d.manifest.id),
    }));

  app.get('/admin/plugins', { config: { access: 'admin' } }, async (req, reply) => {
    return reply.render('views/pages/admin-plugins', { title: req.t('admin:plugins.title'), plugins: list(req.t as never) });
  });

  app.post(
    '/admin/plugins/:id',
    {
      schema: {
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 60 } }, required: ['id'] },
        body: { type: 'object', properties: { enabled: { type: 'string', enum: ['true', 'false'] } }, required: ['enabled'] },
      },
      config: { access: 'admin' },
    },
    async (req, reply) => {
      const { id } = req.params as { id: string };
      if (!app.features.defs.has(id)) throw new AppError('NOT_FOUND');
      const enabled = (req.body as { enabled: string }).enabled === 'true';
      await app.features.set(id, enabled, { actorId: req.user!.id });
      if (req.headers['hx-request'] === 'true') {
        const plugin = list(req.t as never).find((p) => p.id === id);
        return reply.render('views/partials/plugin-row', { plugin, flash: req.t(enabled ? 'admin:plugins.enabled' : 'admin:plugins.disabled', { name: plugin?.name }) });
      }
      return reply.redirect('/admin/plugins', 303);
    },
  );
}
