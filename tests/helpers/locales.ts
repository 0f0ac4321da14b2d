// The locale parity check: every key of a namespace present and non-empty in every language (pure, so it can be tested on broken samples).
import fs from 'node:fs';
import path from 'node:path';

export type Bundles = Record<string, unknown>;

/** Plural forms only some languages have (French "many"); `_zero` is an optional extra in every language. */
const EXTRA_PLURALS = ['zero', 'two', 'few', 'many'] as const;

/** `{a: {b: 'x'}}` -> `[['a.b', 'x']]` (i18next's default key separator). */
export function flatten(value: unknown, prefix = ''): Array<[key: string, value: unknown]> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [[prefix, value]];
  const out: Array<[string, unknown]> = [];
  for (const [k, v] of Object.entries(value)) out.push(...flatten(v, prefix ? `${prefix}.${k}` : k));
  return out;
}

/** A plural form that this language needs and others may lack (e.g. `x_many` in French). */
function languageSpecificPlural(lang: string, key: string): boolean {
  const m = /_(zero|two|few|many)$/.exec(key);
  if (!m) return false;
  const cat = m[1] as (typeof EXTRA_PLURALS)[number];
  if (cat === 'zero') return true;
  let cats: string[] = [];
  try {
    cats = new Intl.PluralRules(lang).resolvedOptions().pluralCategories;
  } catch {
    return false;
  }
  return cats.includes(cat);
}

/**
 * The problems of one namespace across languages, one readable line each; [] when all is well.
 * `bundles[lang]` is the parsed JSON of that language, or undefined when its file is missing.
 */
export function localeProblems(where: string, languages: readonly string[], bundles: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const flat = new Map<string, Map<string, unknown>>();
  for (const lang of languages) {
    const b = bundles[lang];
    if (b === undefined) {
      problems.push(`${where}: the ${lang} file is missing`);
      continue;
    }
    if (b === null || typeof b !== 'object' || Array.isArray(b)) {
      problems.push(`${where}: the ${lang} file is not a JSON object`);
      continue;
    }
    flat.set(lang, new Map(flatten(b)));
  }
  const required = new Set<string>();
  for (const [lang, keys] of flat) for (const key of keys.keys()) if (!languageSpecificPlural(lang, key)) required.add(key);
  for (const [lang, keys] of flat) {
    for (const key of [...required].sort()) if (!keys.has(key)) problems.push(`${where}: "${key}" is missing in ${lang}`);
    for (const [key, value] of keys) {
      if (typeof value !== 'string') problems.push(`${where}: "${key}" in ${lang} is not a string`);
      else if (value.trim() === '') problems.push(`${where}: "${key}" is empty in ${lang}`);
    }
  }
  return problems;
}

function readJson(file: string): unknown {
  if (!fs.existsSync(file)) return undefined;
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** Core namespaces: locales/<lang>/<ns>.json; every namespace file found in any language, plus the expected ones. */
export function coreNamespaces(localesDir: string, languages: readonly string[], expected: readonly string[]): Map<string, Bundles> {
  const names = new Set(expected);
  for (const lang of languages) {
    const dir = path.join(localesDir, lang);
    if (!fs.existsSync(dir)) continue;
    for (const f of fs.readdirSync(dir)) if (f.endsWith('.json')) names.add(f.slice(0, -5));
  }
  const out = new Map<string, Bundles>();
  for (const ns of [...names].sort()) {
    const bundles: Bundles = {};
    for (const lang of languages) bundles[lang] = readJson(path.join(localesDir, lang, `${ns}.json`));
    out.set(ns, bundles);
  }
  return out;
}

/** Plugins under a folder: <dir>/<id>/locales/<lang>.json for every plugin folder that has an index.ts. */
export function pluginLocales(pluginsDir: string, languages: readonly string[]): Map<string, Bundles> {
  const out = new Map<string, Bundles>();
  if (!fs.existsSync(pluginsDir)) return out;
  for (const d of fs.readdirSync(pluginsDir, { withFileTypes: true })) {
    if (!d.isDirectory() || !fs.existsSync(path.join(pluginsDir, d.name, 'index.ts'))) continue;
    const bundles: Bundles = {};
    for (const lang of languages) bundles[lang] = readJson(path.join(pluginsDir, d.name, 'locales', `${lang}.json`));
    out.set(d.name, bundles);
  }
  return out;
}
