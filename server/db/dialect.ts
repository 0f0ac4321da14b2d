// The ONLY place that branches between SQLite and PostgreSQL: connection, pragmas, transactions, types, notifications.
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { CompiledQuery, Kysely, PostgresDialect, SqliteDialect, sql, type DatabaseConnection, type Dialect, type Driver } from 'kysely';
import type { Database } from './database.ts';
import { OperatorError } from '../errors.ts';

export type Engine = 'sqlite' | 'postgres';

export interface DbHandle {
  db: Kysely<Database>;
  engine: Engine;
  /** SQLite: a cheap number that changes when another connection (another process) commits. PostgreSQL: undefined. */
  dataVersion: (() => number) | undefined;
  /** PostgreSQL: the pool, for LISTEN clients and metrics. */
  pool: pg.Pool | undefined;
  sqlitePath: string | undefined;
  close: () => Promise<void>;
}

export interface ConnectOptions {
  databaseUrl: string | undefined;
  dataDir: string;
  /** SQLite file name inside dataDir */
  fileName?: string;
  poolSize?: number;
  onQuery?: (durationMs: number) => void;
  /** an idle PostgreSQL connection failed (database restarted): the pool replaces it */
  onPoolError?: (err: Error) => void;
}

/** SQLite write transactions must take the write lock at BEGIN, or two processes deadlock on upgrade. */
class ImmediateSqliteDialect extends SqliteDialect {
  override createDriver(): Driver {
    const driver = super.createDriver();
    driver.beginTransaction = async (connection: DatabaseConnection) => {
      await connection.executeQuery(CompiledQuery.raw('begin immediate'));
    };
    return driver;
  }
}

// PostgreSQL bigint (int8) and numeric come back as strings: our int8 columns hold epoch milliseconds, well inside 2^53.
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

export function isPostgresUrl(url: string | undefined): url is string {
  return !!url && /^postgres(ql)?:/.test(url);
}

export function connect(opts: ConnectOptions): DbHandle {
  const log = opts.onQuery ? { log: (e: { queryDurationMillis: number }) => opts.onQuery!(e.queryDurationMillis) } : {};
  if (isPostgresUrl(opts.databaseUrl)) {
    const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: opts.poolSize ?? 10, types: pgTypes as pg.CustomTypesConfig });
    // An idle client's error (database restarted) must not crash the process; the pool replaces it.
    pool.on('error', (err) => opts.onPoolError?.(err));
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), ...log });
    return { db, engine: 'postgres', dataVersion: undefined, pool, sqlitePath: undefined, close: () => db.destroy() };
  }
  const file = path.join(opts.dataDir, opts.fileName ?? 'noper.sqlite');
  let sqlite: SQLite.Database;
  try {
    fs.mkdirSync(opts.dataDir, { recursive: true });
    sqlite = new SQLite(file, { timeout: 5000 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why: Record<string, string> = { EACCES: 'permission denied', EPERM: 'permission denied', ENOTDIR: 'a file stands where a folder should be', EEXIST: 'a file stands where a folder should be', EROFS: 'the disk is read-only', ENOSPC: 'the disk is full', SQLITE_CANTOPEN: 'the database file cannot be opened' };
    throw new OperatorError(`DATA_DIR=${opts.dataDir} cannot be used: ${why[e.code ?? ''] ?? e.message}`, { help: 'point DATA_DIR at a folder Noper may write', cause: err });
  }
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('busy_timeout = 5000');
  const dialect: Dialect = new ImmediateSqliteDialect({ database: sqlite });
  const db = new Kysely<Database>({ dialect, ...log });
  const dv = sqlite.prepare('PRAGMA data_version').pluck();
  return {
    db,
    engine: 'sqlite',
    dataVersion: () => dv.get() as number,
    pool: undefined,
    sqlitePath: file,
    close: () => db.destroy(),
  };
}

/** count(*) is a number on SQLite and a string (bigint) on PostgreSQL. */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string') return Number(v);
  return 0;
}

/** A trivial round trip, for /healthz. */
export async function ping(db: Kysely<any>): Promise<void> {
  await sql`select 1`.execute(db);
}

/** Sends a notification to every process sharing the database (PostgreSQL NOTIFY; SQLite peers poll data_version instead). */
export async function notifyPeers(db: Kysely<any>, engine: Engine, channel: string, payload: string): Promise<void> {
  if (engine !== 'postgres') return;
  await sql`select pg_notify(${channel}, ${payload})`.execute(db);
}

/** Listens on a PostgreSQL channel with a dedicated connection, reconnecting after errors. Returns a stop function. */
export function listenPeers(
  handle: DbHandle,
  channel: string,
  onMessage: (payload: string) => void,
  onReconnect: () => void,
  onError: (err: unknown) => void,
): () => Promise<void> {
  if (handle.engine !== 'postgres' || !handle.pool) return async () => {};
  const pool = handle.pool;
  let stopped = false;
  let client: pg.PoolClient | undefined;
  let retry: NodeJS.Timeout | undefined;
  // One retry at a time, whichever of the error event and the failed LISTEN notices the loss first.
  const scheduleRetry = () => {
    if (stopped || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      void start(true);
    }, 1000);
  };
  const drop = (c: pg.PoolClient, err: unknown) => {
    // Already handed back by stop() (e.g. the database was dropped right after close): releasing twice throws from the pool.
    if (client !== c) return;
    client = undefined;
    onError(err);
    c.release(true);
    scheduleRetry();
  };
  const start = async (isRetry: boolean) => {
    if (stopped) return;
    let c: pg.PoolClient;
    try {
      c = await pool.connect();
    } catch (err) {
      onError(err);
      scheduleRetry();
      return;
    }
    // Stopped while connecting (a server closed right after it was built): hand the client back, or pool.end() waits for it forever.
    if (stopped) return c.release(true);
    client = c;
    c.on('notification', (msg) => {
      if (msg.channel === channel && msg.payload !== undefined) onMessage(msg.payload);
    });
    c.on('error', (err) => drop(c, err));
    try {
      await c.query(`LISTEN "${channel.replace(/"/g, '')}"`);
      if (isRetry) onReconnect();
    } catch (err) {
      drop(c, err);
    }
  };
  void start(false);
  return async () => {
    stopped = true;
    if (retry) clearTimeout(retry);
    if (client) {
      const c = client;
      client = undefined;
      try {
        await c.query(`UNLISTEN *`);
      } catch {
        /* closing anyway */
      }
      c.release(true);
    }
  };
}

/** Locks claimed rows so that two processes never take the same one (PostgreSQL); SQLite's BEGIN IMMEDIATE already serialises writers. */
export function forClaim<QB extends { forUpdate(): QB; skipLocked(): QB }>(engine: Engine, qb: QB): QB {
  return engine === 'postgres' ? qb.forUpdate().skipLocked() : qb;
}
