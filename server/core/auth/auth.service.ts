// Logging in and creating accounts; answers never reveal whether an e-mail is registered.
import type { Db, User } from '../../db/database.ts';
import { AppError } from '../../errors.ts';
import { newId } from '../../ids.ts';
import { isCommonPassword } from './common-passwords.ts';
import { dummyHash, hashPassword, passwordProblem, verifyPassword } from './passwords.ts';
import { countAdmins, findUserByEmail, insertUser, normalizeEmail } from './users.repository.ts';

const EMAIL = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/;

export function emailProblem(email: string): string | undefined {
  const e = normalizeEmail(email);
  if (!e) return 'emailRequired';
  if (e.length > 254 || !EMAIL.test(e)) return 'emailInvalid';
  return undefined;
}

export function nameProblem(name: string): string | undefined {
  const n = name.trim();
  if (!n) return 'nameRequired';
  // Control characters, line breaks, zero-width spaces and bidi overrides (which can disguise a name); ZWJ/ZWNJ stay for scripts and emoji.
  if (/[\p{Cc}\u200B\u2028\u2029\u202A-\u202E\u2066-\u2069\uFEFF]/u.test(n)) return 'nameInvalid';
  if ([...n].length > 80) return 'nameTooLong';
  return undefined;
}

/** The user whose e-mail and password match, else undefined; always spends one argon2 verification. */
export async function authenticate(db: Db, email: string, password: string): Promise<User | undefined> {
  const user = typeof email === 'string' && email.length <= 254 ? await findUserByEmail(db, email) : undefined;
  const ok = await verifyPassword(user?.password_hash ?? (await dummyHash()), typeof password === 'string' ? password.slice(0, 1024) : '');
  if (!user || !ok || user.disabled_at !== null) return undefined;
  return user;
}

export class AccountInputError extends Error {
  constructor(readonly field: string, readonly key: string) {
    super(`${field}: ${key}`);
  }
}

/** Creates a commune admin (command line `noper admin create`). */
export async function createAdmin(db: Db, input: { email: string; name?: string; password: string }): Promise<User> {
  const name = input.name?.trim() || input.email.split('@')[0] || 'Admin';
  const problems: [string, string | undefined][] = [
    ['email', emailProblem(input.email)],
    ['name', nameProblem(name)],
    ['password', passwordProblem(input.password) ?? (isCommonPassword(input.password) ? 'passwordCommon' : undefined)],
  ];
  for (const [field, key] of problems) if (key) throw new AccountInputError(field, key);
  if (await findUserByEmail(db, input.email)) throw new AccountInputError('email', 'emailTaken');
  return insertUser(db, {
    id: newId(),
    email: input.email,
    name,
    password_hash: await hashPassword(input.password),
    role: 'admin',
    lang: null,
    created_at: Date.now(),
    disabled_at: null,
  });
}

export async function hasAdmin(db: Db): Promise<boolean> {
  return (await countAdmins(db)) > 0;
}

export const loginFailed = () => new AppError('LOGIN_FAILED');
