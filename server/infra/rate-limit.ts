// Fixed-window counters in the rate_limits table, shared by every process: the per-IP limits of routes and the per-account limits of the auth area.
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { DbOrTrx } from '../db/database.ts';
import { AppError } from '../errors.ts';

export interface Count {
  /** requests counted in the current window, this one included */
  current: number;
  /** epoch ms when the window ends */
  resetAt: number;
}

/** Counts one request under `key`; a spent window starts over. One statement, so concurrent processes never lose a count. */
export async function increment(db: DbOrTrx, key: string, windowMs: number, now = Date.now()): Promise<Count> {
  const resetAt = now + windowMs;
  const r = await sql<{ count: number; reset_at: number }>`
    insert into rate_limits (key, count, reset_at) values (${key}, 1, ${resetAt})
    on conflict (key) do update set
      count = case when rate_limits.reset_at <= ${now} then 1 else rate_limits.count + 1 end,
      reset_at = case when rate_limits.reset_at <= ${now} then ${resetAt} else rate_limits.reset_at end
    returning count, reset_at`.execute(db);
  const row = r.rows[0]!;
  return { current: Number(row.count), resetAt: Number(row.reset_at) };
}

export interface Hit {
  /** more than `max` requests in the window: refuse this one */
  limited: boolean;
  current: number;
  /** ms until the window ends */
  retryAfterMs: number;
}

/** Counts one request under `key` and says whether it is over `max` per `windowMs`. */
export async function hit(db: DbOrTrx, key: string, max: number, windowMs: number, now = Date.now()): Promise<Hit> {
  const c = await increment(db, key, windowMs, now);
  return { limited: c.current > max, current: c.current, retryAfterMs: Math.max(0, c.resetAt - now) };
}

/** Takes back one count (a login that succeeded after all: only failures should count). */
export async function undo(db: DbOrTrx, key: string): Promise<void> {
  await db.updateTable('rate_limits').set((eb) => ({ count: eb('count', '-', 1) })).where('key', '=', key).where('count', '>', 0).execute();
}

/** The current count under `key` without counting (0 when none or the window is spent). */
export async function peek(db: DbOrTrx, key: string, now = Date.now()): Promise<Count> {
  const row = await db.selectFrom('rate_limits').select(['count', 'reset_at']).where('key', '=', key).executeTakeFirst();
  return !row || Number(row.reset_at) <= now ? { current: 0, resetAt: now } : { current: Number(row.count), resetAt: Number(row.reset_at) };
}

/**
 * A key for a per-account limit: the e-mail address (or id) is hashed, so the table holds no address of anyone,
 * registered or not. `kind` keeps the limits of different actions apart.
 */
export function accountKey(kind: string, account: string): string {
  return `acct:${kind}|${createHash('sha256').update(account).digest('hex').slice(0, 32)}`;
}

/** The 429 every limit answers with: the same text whatever was counted, Retry-After in whole seconds. */
export function tooManyAttempts(retryAfterMs: number): AppError {
  return new AppError('RATE_LIMITED', { count: Math.max(1, Math.ceil(retryAfterMs / 1000)) });
}
