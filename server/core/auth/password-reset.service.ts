// Password reset links: token "id.secret" as for sessions (SHA-256 of the secret stored), 30 minutes, one use, only the newest link of a user works.
import { sha256 } from '@oslojs/crypto/sha2';
import { constantTimeEqual } from '@oslojs/crypto/subtle';
import { encodeHexLowerCase } from '@oslojs/encoding';
import type { Db } from '../../db/database.ts';
import { randomToken } from '../../ids.ts';
import { hashPassword, newPasswordProblem } from './passwords.ts';
import type { SessionService } from './sessions.service.ts';

export const RESET_LIFETIME_MS = 30 * 60 * 1000;

const hashSecret = (secret: string) => encodeHexLowerCase(sha256(new TextEncoder().encode(secret)));

/** Creates a reset link's token for the user; their earlier links stop working. The secret exists only in the returned token. */
export async function createResetToken(db: Db, userId: string, now = Date.now()): Promise<string> {
  const id = randomToken();
  const secret = randomToken();
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('password_resets').where('user_id', '=', userId).execute();
    await trx.insertInto('password_resets').values({ id, secret_hash: hashSecret(secret), user_id: userId, created_at: now, expires_at: now + RESET_LIFETIME_MS, used_at: null }).execute();
  });
  return `${id}.${secret}`;
}

/** The reset a token stands for, when it can be used now: known, secret right, unused, unexpired, account not disabled. */
export async function findUsableReset(db: Db, token: unknown, now = Date.now()): Promise<{ id: string; userId: string } | undefined> {
  if (typeof token !== 'string') return undefined;
  const parts = token.split('.');
  if (parts.length !== 2 || !parts[0] || !parts[1] || parts[0].length > 64 || parts[1].length > 64) return undefined;
  const [id, secret] = parts as [string, string];
  const row = await db
    .selectFrom('password_resets')
    .innerJoin('users', 'users.id', 'password_resets.user_id')
    .select(['password_resets.id', 'password_resets.secret_hash', 'password_resets.user_id', 'password_resets.expires_at', 'password_resets.used_at', 'users.disabled_at'])
    .where('password_resets.id', '=', id)
    .executeTakeFirst();
  if (!row) return undefined;
  const enc = new TextEncoder();
  if (!constantTimeEqual(enc.encode(row.secret_hash), enc.encode(hashSecret(secret)))) return undefined;
  if (row.used_at !== null || row.expires_at <= now || row.disabled_at !== null) return undefined;
  return { id: row.id, userId: row.user_id };
}

export type ResetOutcome =
  | { kind: 'invalid' }
  /** the new password is refused: message key with namespace; the link stays usable */
  | { kind: 'weak'; key: string }
  /** done: the sessions that ended (their sockets should close) */
  | { kind: 'done'; userId: string; endedSessions: string[] };

/** Sets a new password through a reset link: the link is spent and every session of the account ends, all at once. */
export async function resetPassword(db: Db, sessions: SessionService, token: unknown, password: string, now = Date.now()): Promise<ResetOutcome> {
  const reset = await findUsableReset(db, token, now);
  if (!reset) return { kind: 'invalid' };
  const problem = newPasswordProblem(password);
  if (problem) return { kind: 'weak', key: problem };
  const passwordHash = await hashPassword(password);
  return db.transaction().execute(async (trx) => {
    // Spent here, under the write lock: of two submissions of one link only one gets through.
    const spent = await trx
      .updateTable('password_resets')
      .set({ used_at: now })
      .where('id', '=', reset.id)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    if (Number(spent.numUpdatedRows) !== 1) return { kind: 'invalid' as const };
    await trx.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', reset.userId).execute();
    await trx.deleteFrom('password_resets').where('user_id', '=', reset.userId).where('id', '!=', reset.id).execute();
    const endedSessions = await sessions.invalidateAllOf(reset.userId, undefined, trx);
    return { kind: 'done' as const, userId: reset.userId, endedSessions };
  });
}
