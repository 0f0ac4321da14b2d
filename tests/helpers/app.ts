// build(t): a real Noper on a fresh database (SQLite file or new PostgreSQL database), closed in teardown; clients that keep cookies and send CSRF tokens like a browser.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildApp, type BuildOptions } from '../../server/app.ts';
import { loadConfig, type Config } from '../../server/config.ts';
import { newId } from '../../server/ids.ts';
import { hashPassword } from '../../server/core/auth/passwords.ts';
import { PG_URL, freshPgDatabase } from './db.ts';

export interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface TestEnv {
  dataDir: string;
  databaseUrl: string | undefined;
  env: Record<string, string>;
}

/** A fresh data directory and, on PostgreSQL, a fresh database; both removed in teardown. */
export async function freshEnv(t: Teardown): Promise<TestEnv> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'noper-test-'));
  t.teardown(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  let databaseUrl: string | undefined;
  if (PG_URL) {
    const pgdb = await freshPgDatabase();
    databaseUrl = pgdb.url;
    t.teardown(pgdb.drop);
  }
  const env: Record<string, string> = { DATA_DIR: dataDir, LOG_LEVEL: 'silent', DEFAULT_LANG: 'en' };
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  return { dataDir, databaseUrl, env };
}

export interface Built {
  app: FastifyInstance;
  config: Config;
  env: TestEnv;
}

/** Builds the app on a fresh database; extra env and build options as given. */
export async function build(t: Teardown, opts: BuildOptions & { env?: Record<string, string>; testEnv?: TestEnv } = {}): Promise<Built> {
  const env = opts.testEnv ?? (await freshEnv(t));
  const config = loadConfig({ ...env.env, ...opts.env });
  const app = await buildApp(config, { logger: false, ...opts });
  await app.ready();
  t.teardown(() => app.close());
  return { app, config, env };
}

export interface UserSpec {
  email?: string;
  name?: string;
  password?: string;
  role?: 'resident' | 'admin';
  lang?: string | null;
  /** neighbourhood slugs the user is a verified member of; `{slug, role, verified}` for more */
  memberships?: Array<string | { slug: string; role?: 'member' | 'moderator'; verified?: boolean }>;
}

const hashes = new Map<string, Promise<string>>();

/** Inserts a user (and any neighbourhoods and memberships named) straight into the database. */
export async function createUser(app: FastifyInstance, spec: UserSpec = {}) {
  const password = spec.password ?? 'correct horse battery';
  if (!hashes.has(password)) hashes.set(password, hashPassword(password));
  const id = newId();
  const email = spec.email ?? `${id}@example.lu`;
  const now = Date.now();
  await app.db
    .insertInto('users')
    .values({ id, email, name: spec.name ?? 'Test Person', password_hash: await hashes.get(password)!, role: spec.role ?? 'resident', lang: spec.lang ?? null, created_at: now, disabled_at: null })
    .execute();
  for (const m of spec.memberships ?? []) {
    const { slug, role = 'member', verified = true } = typeof m === 'string' ? { slug: m } : m;
    const nid = await ensureNeighborhood(app, slug);
    await app.db.insertInto('memberships').values({ user_id: id, neighborhood_id: nid, role, verified_at: verified ? now : null, created_at: now }).execute();
  }
  return { id, email, password };
}

export async function ensureNeighborhood(app: FastifyInstance, slug: string, name = slug): Promise<string> {
  const existing = await app.db.selectFrom('neighborhoods').select('id').where('slug', '=', slug).executeTakeFirst();
  if (existing) return existing.id;
  const id = newId();
  await app.db.insertInto('neighborhoods').values({ id, slug, name, created_at: Date.now() }).execute();
  return id;
}

const CSRF_RE = /name="_csrf" value="([^"]+)"|"X-CSRF-Token":"([^"]+)"/;

/** Like a browser: keeps cookies, reads the CSRF token of the last page, sends forms with Origin. */
export class Client {
  readonly cookies = new Map<string, string>();
  csrf: string | undefined;

  constructor(readonly app: FastifyInstance) {}

  get cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private keep(res: LightMyRequestResponse): void {
    for (const c of res.cookies as Array<{ name: string; value: string; maxAge?: number; expires?: Date }>) {
      if (c.value === '' || c.maxAge === 0 || (c.expires && c.expires.getTime() < Date.now())) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
    const m = CSRF_RE.exec(res.body);
    if (m) this.csrf = m[1] ?? m[2];
  }

  async request(opts: InjectOptions): Promise<LightMyRequestResponse> {
    const headers = { ...(opts.headers ?? {}) } as Record<string, string>;
    if (this.cookies.size) headers.cookie = this.cookieHeader;
    const res = await this.app.inject({ ...opts, headers });
    this.keep(res);
    return res;
  }

  get(url: string, headers: Record<string, string> = {}) {
    return this.request({ method: 'GET', url, headers });
  }

  /** A form POST with the page's CSRF token (fetching `/` first when no page was read yet). */
  async post(url: string, form: Record<string, string> = {}, headers: Record<string, string> = {}) {
    if (!this.csrf) await this.get('/');
    const body = new URLSearchParams({ _csrf: this.csrf ?? '', ...form }).toString();
    return this.request({
      method: 'POST',
      url,
      payload: body,
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost:80', host: 'localhost:80', ...headers },
    });
  }

  /** Logs in through the real form. */
  async login(email: string, password: string) {
    await this.get('/login');
    const res = await this.post('/login', { email, password });
    if (res.statusCode !== 303) throw new Error(`login failed: ${res.statusCode}`);
    // The signed-in start page hands out the session's CSRF token; a verified resident's / leads on to their board.
    const start = await this.get('/');
    if (start.statusCode === 303 && start.headers.location) await this.get(String(start.headers.location));
    return res;
  }
}

/** A signed-in client for a new user. */
export async function clientAs(app: FastifyInstance, spec: UserSpec = {}) {
  const user = await createUser(app, spec);
  const client = new Client(app);
  await client.login(user.email, user.password);
  return { client, user };
}
