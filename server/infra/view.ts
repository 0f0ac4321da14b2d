// Handlebars through @fastify/view: one main layout, partials, helpers; full page or only the fragment for htmx.
import fs from 'node:fs';
import path from 'node:path';
import fp from 'fastify-plugin';
import fastifyView from '@fastify/view';
import Handlebars from 'handlebars';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { LANGUAGES } from '../config.ts';
import { ROOT, VIEWS_DIR } from '../paths.ts';

export const hbs = Handlebars.create();

const LANG_NAMES: Record<string, string> = { lb: 'Lëtzebuergesch', fr: 'Français', de: 'Deutsch', en: 'English' };

hbs.registerHelper('t', function (this: unknown, key: string, options: Handlebars.HelperOptions) {
  const t = options.data?.root?._t as ((k: string, o?: object) => string) | undefined;
  const ns = options.data?.root?._ns as string | undefined;
  return t ? t(key, ns ? { ns: [ns, "common"], ...options.hash } : options.hash) : key;
});
hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);
hbs.registerHelper('date', function (ms: number, options: Handlebars.HelperOptions) {
  const root = options.data?.root ?? {};
  if (typeof ms !== 'number') return '';
  const style = (options.hash?.style as 'full' | 'long' | 'medium' | 'short' | undefined) ?? 'medium';
  return new Intl.DateTimeFormat(root.lang ?? 'en', { dateStyle: style, timeStyle: options.hash?.time ? 'short' : undefined, timeZone: root.timeZone }).format(ms);
});
hbs.registerHelper('number', function (n: number, options: Handlebars.HelperOptions) {
  return new Intl.NumberFormat(options.data?.root?.lang ?? 'en').format(n);
});

function collectPartials(dir: string, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  if (!fs.existsSync(dir)) return out;
  for (const f of fs.readdirSync(dir)) {
    if (f.endsWith('.hbs')) out[prefix + f.slice(0, -4)] = path.relative(ROOT, path.join(dir, f));
  }
  return out;
}

/** Registers a plugin's partials as `<id>/<name>`. */
export function addPluginPartials(id: string, dir: string): void {
  const partials = path.join(dir, 'partials');
  if (!fs.existsSync(partials)) return;
  for (const f of fs.readdirSync(partials)) {
    if (f.endsWith('.hbs')) hbs.registerPartial(`${id}/${f.slice(0, -4)}`, fs.readFileSync(path.join(partials, f), 'utf8'));
  }
}

export interface PageData {
  title?: string;
  [key: string]: unknown;
}

declare module 'fastify' {
  interface FastifyReply {
    /** Renders a view (path relative to the project root, without .hbs) in the main layout, or alone for htmx. */
    render(view: string, data?: PageData, status?: number): Promise<FastifyReply>;
  }
  interface FastifyInstance {
    /** Data every page's layout needs (language, navigation, user, CSRF token); set by the app. */
    layoutData(req: FastifyRequest, reply: FastifyReply): Promise<Record<string, unknown>>;
  }
}

export function isFragmentRequest(req: FastifyRequest): boolean {
  return req.headers['hx-request'] === 'true' && req.headers['hx-history-restore-request'] !== 'true';
}

export const languageChoices = () => LANGUAGES.map((code) => ({ code, name: LANG_NAMES[code] }));

export default fp(
  async (app) => {
    await app.register(fastifyView, {
      engine: { handlebars: hbs },
      root: ROOT,
      viewExt: 'hbs',
      production: true, // compiled templates are cached; behaviour never depends on NODE_ENV
      maxCache: 500,
      options: { partials: collectPartials(path.join(VIEWS_DIR, 'partials')) },
    });

    app.decorateReply('render', async function (this: FastifyReply, view: string, data: PageData = {}, status?: number) {
      const req = this.request;
      const fragment = isFragmentRequest(req);
      const base = await app.layoutData(req, this);
      const all = { ...base, ...data, fragment };
      this.header('Vary', 'HX-Request');
      this.type('text/html; charset=utf-8');
      if (status) this.code(status);
      const html = fragment ? await this.viewAsync(view, all) : await this.viewAsync(view, all, { layout: 'views/layouts/main' });
      return this.send(html);
    });
  },
  { name: 'noper-view' },
);
