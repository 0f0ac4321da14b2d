// Refuses the passwords attackers try first: zxcvbn-ts's offline list of ~49,000 common passwords, compared without case.
import { dictionary } from '@zxcvbn-ts/language-common';

let common: Set<string> | undefined;

/** True when the password (any case) is on the common-passwords list; the Set is built once, on first use. */
export function isCommonPassword(password: string): boolean {
  common ??= new Set(dictionary.passwords.map((p) => p.toLowerCase()));
  return common.has(password.toLowerCase());
}
