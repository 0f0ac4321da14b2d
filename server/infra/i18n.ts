// One i18next instance for the core namespaces and every plugin's; language negotiation per request.
import fs from 'node:fs';
import path from 'node:path';
import i18next, { type i18n as I18n, type TFunction } from 'i18next';
import { LANGUAGES, type Lang } from '../config.ts';
import { LOCALES_DIR } from '../paths.ts';

export const CORE_NAMESPACES = ['common', 'auth', 'board', 'admin', 'errors'] as const;

/** lb falls back to German, then French, then English; the others straight to English. */
export const FALLBACK: Record<string, string[]> = { lb: ['de', 'fr', 'en'], fr: ['en'], de: ['en'], en: [], default: ['en'] };

export function isLang(v: unknown): v is Lang {
  return typeof v === 'string' && (LANGUAGES as readonly string[]).includes(v);
}

export async function createI18n(): Promise<I18n> {
  const instance = i18next.createInstance();
  const resources: Record<string, Record<string, object>> = {};
  for (const lang of LANGUAGES) {
    resources[lang] = {};
    for (const ns of CORE_NAMESPACES) {
      const file = path.join(LOCALES_DIR, lang, `${ns}.json`);
      // A missing file falls back along the chain; the locale parity test fails on it.
      if (fs.existsSync(file)) resources[lang]![ns] = JSON.parse(fs.readFileSync(file, 'utf8'));
    }
  }
  await instance.init({
    resources,
    lng: 'en',
    supportedLngs: [...LANGUAGES],
    fallbackLng: FALLBACK,
    ns: [...CORE_NAMESPACES],
    defaultNS: 'common',
    fallbackNS: 'common',
    returnEmptyString: false,
    returnNull: false,
    interpolation: { escapeValue: false }, // handlebars escapes on output
    initAsync: false,
    showSupportNotice: false,
  } as Parameters<I18n['init']>[0]);
  return instance;
}

/** Adds a plugin's locales (one JSON file per language, its id as the namespace). */
export function addPluginLocales(i18n: I18n, ns: string, dir: string): void {
  for (const lang of LANGUAGES) {
    const file = path.join(dir, `${lang}.json`);
    if (!fs.existsSync(file)) continue;
    i18n.addResourceBundle(lang, ns, JSON.parse(fs.readFileSync(file, 'utf8')), true, true);
  }
}

/** Parses Accept-Language and returns our best language, or undefined. */
export function fromAcceptLanguage(header: string | undefined): Lang | undefined {
  if (!header) return undefined;
  const ranked = header
    .split(',')
    .map((part, i) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const quality = q ? Number(q.slice(2)) : 1;
      return { base: tag.trim().toLowerCase().split('-')[0] ?? '', q: Number.isFinite(quality) ? quality : 0, i };
    })
    .filter((x) => x.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const r of ranked) if (isLang(r.base)) return r.base;
  return undefined;
}

export interface LangSources {
  query?: unknown;
  user?: string | null;
  cookie?: string;
  acceptLanguage?: string;
  fallback: Lang;
}

/** ?lang= for this request, then the user's setting, the lang cookie, Accept-Language, the commune's default. */
export function negotiate(s: LangSources): Lang {
  if (isLang(s.query)) return s.query;
  if (isLang(s.user)) return s.user;
  if (isLang(s.cookie)) return s.cookie;
  return fromAcceptLanguage(s.acceptLanguage) ?? s.fallback;
}

export type { I18n, TFunction };
