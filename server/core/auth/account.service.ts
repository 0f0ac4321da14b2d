// A resident's own account: their sessions (listed, ended one by one or all but this one) and the password change.
import { createHash } from 'node:crypto';
import type { Db, Session, User } from '../../db/database.ts';
import { hashPassword, newPasswordProblem, verifyPassword } from './passwords.ts';
import type { SessionService } from './sessions.service.ts';

/**
 * What the page and its forms call a session: a hash of its id. The id is half of the session's credential, so it
 * never appears in a page; the handle only means something together with the signed-in user.
 */
export function sessionHandle(sessionId: string): string {
  return createHash('sha256').update(`session-handle:${sessionId}`).digest('hex').slice(0, 24);
}

export interface SessionEntry {
  handle: string;
  browser: string | null;
  os: string | null;
  createdAt: number;
  lastSeenAt: number;
  current: boolean;
}

/** The user's valid sessions, the current one first. */
export async function listSessions(sessions: SessionService, userId: string, currentId: string): Promise<SessionEntry[]> {
  const rows = await sessions.listOf(userId);
  const entry = (s: Session): SessionEntry => ({
    handle: sessionHandle(s.id), browser: s.browser, os: s.os, createdAt: s.created_at, lastSeenAt: s.last_seen_at, current: s.id === currentId,
  });
  return [...rows.filter((s) => s.id === currentId), ...rows.filter((s) => s.id !== currentId)].map(entry);
}

/** Ends the user's session with this handle (never another user's); returns its id, or undefined when there is none. */
export async function endSessionByHandle(sessions: SessionService, userId: string, handle: string): Promise<string | undefined> {
  const target = (await sessions.listOf(userId)).find((s) => sessionHandle(s.id) === handle);
  if (!target) return undefined;
  await sessions.invalidate(target.id);
  return target.id;
}

export type PasswordChange =
  | { kind: 'wrongCurrent' }
  /** message key with namespace */
  | { kind: 'weak'; key: string }
  | { kind: 'changed'; endedSessions: string[] };

/** Changes the password when the current one is right; every other session of the account ends, the one given stays. */
export async function changePassword(db: Db, sessions: SessionService, user: User, current: string, next: string, keepSessionId: string): Promise<PasswordChange> {
  if (!(await verifyPassword(user.password_hash, current.slice(0, 1024)))) return { kind: 'wrongCurrent' };
  const problem = newPasswordProblem(next);
  if (problem) return { kind: 'weak', key: problem };
  const passwordHash = await hashPassword(next);
  return db.transaction().execute(async (trx) => {
    await trx.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', user.id).execute();
    // A reset link sent before the change must not undo it.
    await trx.deleteFrom('password_resets').where('user_id', '=', user.id).execute();
    const endedSessions = await sessions.invalidateAllOf(user.id, keepSessionId, trx);
    return { kind: 'changed' as const, endedSessions };
  });
}
