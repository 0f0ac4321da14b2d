// Password hashing with argon2id at OWASP's parameters (m=19456 KiB, t=2, p=1).
import { hash, verify } from '@node-rs/argon2';
import { isCommonPassword } from './common-passwords.ts';

const PARAMS = { memoryCost: 19456, timeCost: 2, parallelism: 1, outputLen: 32 } as const;
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

export function hashPassword(password: string): Promise<string> {
  return hash(password, { ...PARAMS, algorithm: 2 /* Argon2id */ });
}

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}

/** A hash to verify against when the account does not exist, so that both answers take as long. */
let dummy: Promise<string> | undefined;
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword('not a real password, only for timing');
  return dummy;
}

/** Length only: no composition rules (NIST 800-63B). Returns an errors-namespace key, or undefined when fine. */
export function passwordProblem(password: string): string | undefined {
  const n = [...password].length;
  if (n < PASSWORD_MIN) return 'passwordTooShort';
  if (n > PASSWORD_MAX) return 'passwordTooLong';
  return undefined;
}

/** Everything a new password must pass (length, not a common password); returns a message key with its namespace. */
export function newPasswordProblem(password: string): string | undefined {
  const length = passwordProblem(password);
  if (length) return `errors:${length}`;
  if (isCommonPassword(password)) return 'auth:register.error.passwordCommon';
  return undefined;
}
