// The feature registry: validates every manifest, migrates each plugin, registers its listeners and routes once, gates them by feature_state.
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { migrateUp } from '../db/migrator.ts';
import { AppError } from '../errors.ts';
import { addPluginLocales } from '../infra/i18n.ts';
import { addPluginPartials } from '../infra/view.ts';
import { PLUGINS_DIR, ROOT } from '../paths.ts';
import { hasAccess, requestNeighborhood } from './access.ts';
import { createContext, type ContextDeps } from './context.ts';
import type { EventName } from './events.ts';
import { validateFeatures, type FeatureDefinition } from './manifest.ts';

export function featureDir(def: FeatureDefinition): string {
  return def.dir ?? path.join(PLUGINS_DIR, def.manifest.id);
}

/** Applies every plugin's pending migrations, each set with its own bookkeeping table. */
export async function migrateFeatures(db: ContextDeps['db'], defs: FeatureDefinition[]): Promise<void> {
  validateFeatures(defs);
  for (const def of defs) if (def.migrations) await migrateUp(db, def.migrations, def.manifest.id);
}

export interface NavItem {
  href: string;
  label: string;
  current: boolean;
}

/** Registers all installed plugins. Must run before the server is ready: Fastify adds no routes after start. */
export async function registerFeatures(app: FastifyInstance, defs: FeatureDefinition[], deps: ContextDeps): Promise<void> {
  validateFeatures(defs);
  for (const def of defs) {
    const id = def.manifest.id;
    const dir = featureDir(def);
    addPluginLocales(deps.i18n, id, path.join(dir, 'locales'));
    addPluginPartials(id, path.join(dir, 'views'));
    const ctx = createContext(def, path.relative(ROOT, path.join(dir, 'views')), deps);
    for (const [name, fn] of Object.entries(def.on ?? {})) ctx.events.on(name as EventName, fn as never);
    if (!def.routes) continue;
    await app.register(
      async (child) => {
        // Every route of the plugin carries its id, so the central access hook can apply the on/off gate.
        child.addHook('onRoute', (route) => {
          route.config ??= {};
          route.config.feature = id;
        });
        await def.routes!(child, ctx);
      },
      { prefix: `/${id}` },
    );
  }
}

/** 404 when the route's plugin is off for the request's neighbourhood: the plugin simply is not there. */
export function assertFeatureOn(app: FastifyInstance, req: FastifyRequest): void {
  const feature = req.routeOptions.config?.feature;
  if (feature && !app.features.isEnabled(feature, requestNeighborhood(req))) throw new AppError('NOT_FOUND');
}

/** Navigation: the core's entries and every enabled plugin's, as far as the reader may use them. */
export function navigation(app: FastifyInstance, req: FastifyRequest): NavItem[] {
  const items: NavItem[] = [];
  const url = req.url.split('?')[0] ?? '/';
  const add = (href: string, label: string) => items.push({ href, label, current: url === href || (href !== '/' && url.startsWith(href)) });
  for (const m of req.memberships.filter((x) => x.verified)) add(`/n/${m.slug}`, m.name);
  const nh = requestNeighborhood(req);
  for (const def of app.features.defs.values()) {
    if (!app.features.isEnabled(def.manifest.id, nh)) continue;
    for (const entry of def.manifest.nav ?? []) {
      if (!hasAccess(req, entry.access ?? 'member')) continue;
      add(`/${def.manifest.id}/${entry.path}`, req.t(entry.label, { ns: def.manifest.id }));
    }
  }
  if (req.user?.role === 'admin') {
    add('/admin/neighborhoods', req.t('admin:nav.neighborhoods'));
    add('/admin/members', req.t('admin:counter.nav'));
    add('/admin/plugins', req.t('admin:nav.plugins'));
  }
  return items;
}

/** Lists the plugins folder, for the check that every plugin on disk is listed in plugins/index.ts. */
export function pluginFolders(): string[] {
  if (!fs.existsSync(PLUGINS_DIR)) return [];
  return fs.readdirSync(PLUGINS_DIR, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
}
