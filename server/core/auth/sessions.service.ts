// Sessions as the Lucia guide prescribes: token "id.secret", SHA-256 of the secret stored, constant-time compare, inactivity expiry.
import { sha256 } from '@oslojs/crypto/sha2';
import { constantTimeEqual } from '@oslojs/crypto/subtle';
import { encodeHexLowerCase } from '@oslojs/encoding';
import type { Db, DbOrTrx, Session, User } from '../../db/database.ts';
import { randomToken } from '../../ids.ts';
import type { DeviceLabel } from './device-label.ts';

const DAY = 24 * 60 * 60 * 1000;
/** last_seen_at is written at most this often, so a busy user costs no write per request. */
const ACTIVITY_CHECK_INTERVAL = 60 * 60 * 1000;

export interface SessionOptions {
  inactivityDays: number;
  maxDays: number;
}

export interface ValidSession {
  session: Session;
  user: User;
  /** the session was extended: the cookie should be sent again with a new lifetime */
  extended: boolean;
}

function hashSecret(secret: string): Uint8Array {
  return sha256(new TextEncoder().encode(secret));
}

export class SessionService {
  constructor(
    private readonly db: Db,
    private readonly opts: SessionOptions,
  ) {}

  get inactivityMs(): number {
    return this.opts.inactivityDays * DAY;
  }

  /** Creates a session and returns its token (the only time the secret exists outside the client). */
  async create(userId: string, now = Date.now(), device: DeviceLabel = { browser: null, os: null }): Promise<{ token: string; session: Session }> {
    const id = randomToken();
    const secret = randomToken();
    const session: Session = {
      id, secret_hash: encodeHexLowerCase(hashSecret(secret)), user_id: userId, created_at: now, last_seen_at: now, browser: device.browser, os: device.os,
    };
    await this.db.insertInto('sessions').values(session).execute();
    return { token: `${id}.${secret}`, session };
  }

  /** The session and its user, or undefined; expired sessions are deleted on sight. */
  async validate(token: string | undefined, now = Date.now()): Promise<ValidSession | undefined> {
    if (!token) return undefined;
    const parts = token.split('.');
    if (parts.length !== 2 || !parts[0] || !parts[1] || parts[0].length > 64 || parts[1].length > 64) return undefined;
    const [id, secret] = parts as [string, string];
    const row = await this.db
      .selectFrom('sessions')
      .innerJoin('users', 'users.id', 'sessions.user_id')
      .select([
        'sessions.id as s_id', 'sessions.secret_hash', 'sessions.user_id', 'sessions.created_at as s_created_at', 'sessions.last_seen_at',
        'sessions.browser', 'sessions.os',
        'users.id', 'users.email', 'users.name', 'users.password_hash', 'users.role', 'users.lang', 'users.created_at', 'users.disabled_at',
        'users.address_id', 'users.review_reason', 'users.deleted_at',
      ])
      .where('sessions.id', '=', id)
      .executeTakeFirst();
    if (!row) return undefined;
    const expected = new TextEncoder().encode(row.secret_hash);
    const given = new TextEncoder().encode(encodeHexLowerCase(hashSecret(secret)));
    if (!constantTimeEqual(expected, given)) return undefined;
    if (now - row.last_seen_at >= this.inactivityMs || now - row.s_created_at >= this.opts.maxDays * DAY || row.disabled_at !== null) {
      await this.invalidate(id);
      return undefined;
    }
    const session: Session = {
      id: row.s_id, secret_hash: row.secret_hash, user_id: row.user_id, created_at: row.s_created_at, last_seen_at: row.last_seen_at, browser: row.browser, os: row.os,
    };
    const extended = now - row.last_seen_at >= ACTIVITY_CHECK_INTERVAL;
    if (extended) {
      session.last_seen_at = now;
      await this.db.updateTable('sessions').set({ last_seen_at: now }).where('id', '=', id).execute();
    }
    const user: User = {
      id: row.id, email: row.email, name: row.name, password_hash: row.password_hash, role: row.role,
      lang: row.lang, created_at: row.created_at, disabled_at: row.disabled_at, address_id: row.address_id, review_reason: row.review_reason, deleted_at: row.deleted_at,
    };
    return { session, user, extended };
  }

  /** Which of these sessions are still valid now (exist, not expired, user not disabled). */
  async alive(sessionIds: string[], now = Date.now()): Promise<Set<string>> {
    const out = new Set<string>();
    for (let i = 0; i < sessionIds.length; i += 500) {
      const rows = await this.db
        .selectFrom('sessions')
        .innerJoin('users', 'users.id', 'sessions.user_id')
        .select('sessions.id')
        .where('sessions.id', 'in', sessionIds.slice(i, i + 500))
        .where('sessions.last_seen_at', '>', now - this.inactivityMs)
        .where('sessions.created_at', '>', now - this.opts.maxDays * DAY)
        .where('users.disabled_at', 'is', null)
        .execute();
      for (const r of rows) out.add(r.id);
    }
    return out;
  }

  async invalidate(sessionId: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('id', '=', sessionId).execute();
  }

  /** Ends every session of the user (but one, when given) and returns the ids ended, so their sockets can be closed. */
  async invalidateAllOf(userId: string, exceptSessionId?: string, db: DbOrTrx = this.db): Promise<string[]> {
    let q = db.deleteFrom('sessions').where('user_id', '=', userId);
    if (exceptSessionId) q = q.where('id', '!=', exceptSessionId);
    return (await q.returning('id').execute()).map((r) => r.id);
  }

  /** The user's sessions that are still valid, most recently used first. */
  async listOf(userId: string, now = Date.now()): Promise<Session[]> {
    return this.db
      .selectFrom('sessions')
      .selectAll()
      .where('user_id', '=', userId)
      .where('last_seen_at', '>', now - this.inactivityMs)
      .where('created_at', '>', now - this.opts.maxDays * DAY)
      .orderBy('last_seen_at', 'desc')
      .orderBy('created_at', 'desc')
      .execute();
  }
}
