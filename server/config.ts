// One validated, frozen Config built from the environment; nothing else in Noper reads process.env.
import { isIP } from 'node:net';
import path from 'node:path';

export const LANGUAGES = ['lb', 'fr', 'de', 'en'] as const;
export type Lang = (typeof LANGUAGES)[number];

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  /** undefined: SQLite file in dataDir; postgres://...: PostgreSQL */
  readonly databaseUrl: string | undefined;
  readonly baseUrl: string;
  /** undefined: e-mails are written to DATA_DIR/outbox as .eml files */
  readonly smtpUrl: string | undefined;
  readonly mailFrom: string;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly tzCommune: string;
  readonly defaultLang: Lang;
  readonly communeName: string;
  /** false: never trust X-Forwarded-*; otherwise the proxy addresses/hop count handed to Fastify */
  readonly trustProxy: false | string | number | true;
  readonly sessionInactivityDays: number;
  readonly sessionMaxDays: number;
  readonly secureCookies: boolean;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

interface VarSpec<T> {
  default: string | undefined;
  describe: string;
  parse: (raw: string, name: string) => T;
}

/** The value as it may appear in an error line: a password inside a URL is never printed. */
const shown = (raw: string) => {
  const at = raw.lastIndexOf('@');
  const start = raw.indexOf('//');
  // Everything between the scheme and the last @ may hold a password, whatever characters it has.
  return JSON.stringify(start >= 0 && at > start ? `${raw.slice(0, start + 2)}***${raw.slice(at)}` : raw);
};

const fail = (name: string, raw: string, why: string): never => {
  throw new ConfigError(`${name}=${shown(raw)} is not valid: ${why}`);
};

const intIn = (min: number, max: number) => (raw: string, name: string): number => {
  if (!/^\d+$/.test(raw.trim())) fail(name, raw, `expected a whole number from ${min} to ${max}`);
  const n = Number(raw);
  if (n < min || n > max) fail(name, raw, `expected a whole number from ${min} to ${max}`);
  return n;
};

const oneOf = <T extends string>(values: readonly T[]) => (raw: string, name: string): T => {
  const v = raw.trim().toLowerCase();
  if (!values.includes(v as T)) fail(name, raw, `expected one of ${values.join(', ')}`);
  return v as T;
};

const url = (protocols: string[]) => (raw: string, name: string): string => {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return fail(name, raw, `not a valid URL (expected ${protocols.join(' or ')}//...; percent-encode special characters in a password)`);
  }
  if (!protocols.includes(u.protocol)) fail(name, raw, `expected a URL starting with ${protocols.join(' or ')}`);
  return raw.replace(/\/+$/, '');
};

const timeZone = (raw: string, name: string): string => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: raw });
  } catch {
    fail(name, raw, 'expected an IANA time zone such as Europe/Luxembourg');
  }
  return raw;
};

const trustProxy = (raw: string, name: string): Config['trustProxy'] => {
  const v = raw.trim();
  if (v === '' || v === 'false' || v === '0') return false;
  if (v === 'true') return true;
  if (/^\d+$/.test(v)) return Number(v);
  const KEYWORDS = ['loopback', 'linklocal', 'uniquelocal'];
  // Checked here, entry by entry: a bad address would otherwise stop the boot inside Fastify with a message that names no variable.
  if (!v.split(',').every((e) => KEYWORDS.includes(e.trim()) || isProxyAddress(e.trim()))) fail(name, raw, 'expected false, true, a hop count, or comma-separated proxy addresses/CIDRs');
  return v;
};

/** An IP address, optionally with a /prefix length (or an IPv4 netmask), as Fastify's trustProxy (proxy-addr) reads it. */
const isProxyAddress = (entry: string): boolean => {
  const [addr = '', bits, ...rest] = entry.split('/');
  const family = isIP(addr);
  if (!family || rest.length > 0) return false;
  if (bits === undefined) return true;
  if (/^\d+$/.test(bits)) return Number(bits) <= (family === 4 ? 32 : 128);
  return family === 4 && isIP(bits) === 4;
};

const bool = (raw: string, name: string): boolean => {
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(v)) return false;
  return fail(name, raw, 'expected true or false');
};

const text = (raw: string) => raw.trim();

const host = (raw: string, name: string): string => {
  const v = raw.trim();
  const hostname = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
  if (isIP(v) || (hostname.test(v) && !/^[\d.]+$/.test(v))) return v;
  return fail(name, raw, 'expected an IP address (127.0.0.1, 0.0.0.0, ::) or a host name');
};

/** Every variable Noper reads, with its default and meaning (also printed by `noper serve --help`). */
export const ENV_VARS = {
  PORT: { default: '3000', describe: 'HTTP port', parse: intIn(0, 65535) },
  HOST: { default: '127.0.0.1', describe: 'address to listen on', parse: host },
  DATA_DIR: { default: './data', describe: 'SQLite file, outbox and backups', parse: text },
  DATABASE_URL: { default: undefined, describe: 'unset: SQLite in DATA_DIR; postgres://...: PostgreSQL', parse: url(['postgres:', 'postgresql:']) },
  BASE_URL: { default: undefined, describe: 'public address, used in e-mails and the Origin check', parse: url(['http:', 'https:']) },
  SMTP_URL: { default: undefined, describe: 'smtp(s)://user:pass@host:port; unset: e-mails go to DATA_DIR/outbox', parse: url(['smtp:', 'smtps:']) },
  MAIL_FROM: { default: undefined, describe: 'sender address of e-mails', parse: text },
  LOG_LEVEL: { default: 'info', describe: 'fatal, error, warn, info, debug, trace or silent', parse: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const) },
  TZ_COMMUNE: { default: 'Europe/Luxembourg', describe: "the commune's time zone", parse: timeZone },
  DEFAULT_LANG: { default: 'lb', describe: 'lb, fr, de or en', parse: oneOf(LANGUAGES) },
  COMMUNE_NAME: { default: 'Noper', describe: "the commune's name in the header until set by an admin", parse: text },
  TRUST_PROXY: { default: 'false', describe: 'false, or the reverse proxy addresses/CIDRs (or loopback, linklocal, uniquelocal) or hop count whose X-Forwarded-For is trusted', parse: trustProxy },
  SESSION_INACTIVITY_DAYS: { default: '30', describe: 'a session ends after this many days unused', parse: intIn(1, 365) },
  SESSION_MAX_DAYS: { default: '365', describe: 'a session ends after this many days whatever happens', parse: intIn(1, 3650) },
  SECURE_COOKIES: { default: undefined, describe: 'true/false; default: true when BASE_URL is https', parse: bool },
} as const satisfies Record<string, VarSpec<unknown>>;

type Vars = typeof ENV_VARS;
type Parsed = { [K in keyof Vars]: ReturnType<Vars[K]['parse']> | undefined };

/** Reads and validates the environment; throws ConfigError with one clear line on the first bad value. */
export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}): Config {
  const v = {} as Record<string, unknown>;
  for (const [name, spec] of Object.entries(ENV_VARS) as [keyof Vars, VarSpec<unknown>][]) {
    const raw = env[name] === undefined || env[name] === '' ? spec.default : env[name];
    v[name] = raw === undefined ? undefined : spec.parse(raw, name);
  }
  const p = v as Parsed;
  const port = p.PORT ?? 3000;
  const host = p.HOST || '127.0.0.1';
  const baseUrl = p.BASE_URL ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const config: Config = {
    port,
    host,
    dataDir: path.resolve(p.DATA_DIR || './data'),
    databaseUrl: p.DATABASE_URL,
    baseUrl,
    smtpUrl: p.SMTP_URL,
    mailFrom: p.MAIL_FROM || `Noper <noreply@${new URL(baseUrl).hostname}>`,
    logLevel: p.LOG_LEVEL ?? 'info',
    tzCommune: p.TZ_COMMUNE ?? 'Europe/Luxembourg',
    defaultLang: p.DEFAULT_LANG ?? 'lb',
    communeName: p.COMMUNE_NAME || 'Noper',
    trustProxy: p.TRUST_PROXY ?? false,
    sessionInactivityDays: p.SESSION_INACTIVITY_DAYS ?? 30,
    sessionMaxDays: p.SESSION_MAX_DAYS ?? 365,
    secureCookies: p.SECURE_COOKIES ?? baseUrl.startsWith('https:'),
    ...overrides,
  };
  return Object.freeze(config);
}
