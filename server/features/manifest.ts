// The feature-plugin contract: what defineFeature takes, and its validation at boot before any plugin code runs.
import type { FastifyInstance } from 'fastify';
import type { Migration } from 'kysely';
import { OperatorError } from '../errors.ts';
import { CORE_EVENT_NAMES, type CoreEvents, type EventName, type Listener } from './events.ts';
import type { FeatureContext } from './context.ts';

export const CORE_API_VERSION = '1.0.0';

export type AccessLevel = 'public' | 'authenticated' | 'member' | 'moderator' | 'organization' | 'admin';
export const ACCESS_LEVELS: readonly AccessLevel[] = ['public', 'authenticated', 'member', 'moderator', 'organization', 'admin'];

export interface NavEntry {
  /** i18n key in the plugin's namespace */
  label: string;
  /** path below /<id>/, '' for the plugin's home */
  path: string;
  /** who sees the entry; default member */
  access?: AccessLevel;
}

export type SettingSpec =
  | { type: 'boolean'; default: boolean }
  | { type: 'integer'; default: number; min?: number; max?: number }
  | { type: 'string'; default: string; maxLength?: number; enum?: string[] };

export interface FeatureManifest {
  /** kebab-case; also the i18n namespace, URL prefix, view folder and (with _) the table prefix */
  id: string;
  version: string;
  /** the core API range this plugin was written for, e.g. ^1.0.0 */
  coreApi: string;
  dependencies?: string[];
  defaultEnabled: boolean;
  /** permission name -> the access levels that hold it */
  permissions?: Record<string, AccessLevel[]>;
  nav?: NavEntry[];
  settings?: Record<string, SettingSpec>;
}

export type FeatureListeners = { [E in EventName]?: Listener<E> };

export interface FeatureDefinition {
  manifest: FeatureManifest;
  migrations?: Record<string, Migration>;
  on?: FeatureListeners;
  routes?: (app: FastifyInstance, ctx: FeatureContext) => void | Promise<void>;
  /** folder holding views/ and locales/; default plugins/<id> */
  dir?: string;
}

/** What every plugin's index.ts exports by default. */
export function defineFeature(def: FeatureDefinition): FeatureDefinition {
  return def;
}

const ID = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const SEMVER = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;
const RANGE = /^(\^|~|>=)?\d+\.\d+\.\d+$/;

const bad = (id: string, message: string, help: string) =>
  new OperatorError(`Feature plugin "${id}": ${message}`, { context: 'while validating plugin manifests at boot', help });

/** Does the core API version satisfy the plugin's range? (^ same major, ~ same minor, >= at least) */
export function satisfiesCoreApi(range: string, version = CORE_API_VERSION): boolean {
  const m = RANGE.exec(range);
  if (!m) return false;
  const op = m[1] ?? '';
  const want = range.slice(op.length).split('.').map(Number) as [number, number, number];
  const have = version.split('.').map(Number) as [number, number, number];
  const cmp = have[0] - want[0] || have[1] - want[1] || have[2] - want[2];
  if (op === '^') return have[0] === want[0] && cmp >= 0;
  if (op === '~') return have[0] === want[0] && have[1] === want[1] && cmp >= 0;
  if (op === '>=') return cmp >= 0;
  return cmp === 0;
}

/** Table prefix of a plugin's own tables: `council-bulletins` -> `council_bulletins_`. */
export function tablePrefix(id: string): string {
  return `${id.replace(/-/g, '_')}_`;
}

/** Validates every manifest; throws an OperatorError with message, context and help at the first problem. */
export function validateFeatures(defs: FeatureDefinition[]): void {
  const seen = new Set<string>();
  for (const def of defs) {
    const m = def?.manifest as FeatureManifest | undefined;
    const id = typeof m?.id === 'string' ? m.id : '(no id)';
    if (!m || typeof m !== 'object') throw bad(id, 'has no manifest', 'export default defineFeature({ manifest: {...}, ... }) from plugins/<id>/index.ts');
    if (!ID.test(m.id) || m.id.length > 40) throw bad(id, 'id must be kebab-case, at most 40 characters', 'e.g. "lost-pets"');
    if (seen.has(m.id)) throw bad(id, 'is listed twice', 'list each plugin once in plugins/index.ts');
    seen.add(m.id);
    if (typeof m.version !== 'string' || !SEMVER.test(m.version)) throw bad(id, `version "${String(m.version)}" is not semver`, 'e.g. "1.0.0"');
    if (typeof m.coreApi !== 'string' || !RANGE.test(m.coreApi)) throw bad(id, `coreApi "${String(m.coreApi)}" is not a version range`, 'e.g. "^1.0.0"');
    if (!satisfiesCoreApi(m.coreApi)) throw bad(id, `needs core API ${m.coreApi}, this Noper has ${CORE_API_VERSION}`, 'update the plugin or Noper');
    if (typeof m.defaultEnabled !== 'boolean') throw bad(id, 'defaultEnabled must be true or false', 'say whether a new commune gets it switched on');
    for (const p of Object.entries(m.permissions ?? {})) {
      if (!Array.isArray(p[1]) || p[1].some((a) => !ACCESS_LEVELS.includes(a))) throw bad(id, `permission "${p[0]}" lists an unknown access level`, `use ${ACCESS_LEVELS.join(', ')}`);
    }
    for (const n of m.nav ?? []) {
      if (typeof n.label !== 'string' || !n.label) throw bad(id, 'a navigation entry has no label key', 'give the i18n key of its label');
      if (typeof n.path !== 'string' || n.path.startsWith('/') || n.path.includes('..')) throw bad(id, `navigation path "${String(n.path)}" must be relative to /${m.id}/`, 'e.g. "" or "new"');
      if (n.access && !ACCESS_LEVELS.includes(n.access)) throw bad(id, `navigation access "${n.access}" is unknown`, `use ${ACCESS_LEVELS.join(', ')}`);
    }
    for (const [k, s] of Object.entries(m.settings ?? {})) {
      if (!s || !['boolean', 'integer', 'string'].includes(s.type)) throw bad(id, `setting "${k}" has no valid type`, 'boolean, integer or string');
      const okDefault = s.type === 'boolean' ? typeof s.default === 'boolean' : s.type === 'integer' ? Number.isInteger(s.default) : typeof s.default === 'string';
      if (!okDefault) throw bad(id, `setting "${k}" has a default of the wrong type`, `its type is ${s.type}`);
    }
    if (RESERVED_IDS.includes(m.id)) throw bad(id, 'uses a name the core keeps for itself', `choose another id than ${RESERVED_IDS.join(', ')}`);
    for (const name of Object.keys(def.on ?? {})) {
      if (!(CORE_EVENT_NAMES as readonly string[]).includes(name)) throw bad(id, `listens to "${name}", which is no core event`, `core events: ${CORE_EVENT_NAMES.join(', ')}`);
      if (typeof (def.on as Record<string, unknown>)[name] !== 'function') throw bad(id, `listener of "${name}" is not a function`, 'on: { "board.post.created": async (e) => {...} }');
    }
    if (def.routes !== undefined && typeof def.routes !== 'function') throw bad(id, 'routes must be a function (app, ctx) => {...}', 'see plugins/README.md');
  }
  for (const def of defs) {
    for (const dep of def.manifest.dependencies ?? []) {
      if (!seen.has(dep)) throw bad(def.manifest.id, `depends on "${dep}", which is not installed`, 'add it to plugins/index.ts or drop the dependency');
    }
  }
  const deps = new Map(defs.map((d) => [d.manifest.id, d.manifest.dependencies ?? []]));
  const visit = (id: string, path: string[]): void => {
    if (path.includes(id)) throw bad(id, `depends on itself through ${[...path.slice(path.indexOf(id)), id].join(' -> ')}`, 'break the cycle');
    for (const dep of deps.get(id) ?? []) visit(dep, [...path, id]);
  };
  for (const id of deps.keys()) visit(id, []);
}

/** Ids that would collide with the core's URLs or tables (`/admin`, `noper_migrations_lock`, `audit_log`...). */
const RESERVED_IDS = ['admin', 'public', 'lock', 'audit', 'n', 'posts', 'ws', 'login', 'logout', 'register', 'addresses', 'verify', 'lang', 'healthz', 'metrics', 'core', 'settings', 'users', 'sessions', 'jobs'];

export type { CoreEvents };
