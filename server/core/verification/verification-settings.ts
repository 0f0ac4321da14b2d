// The commune's choice of verification methods (setting verification.methods) and of vouches needed (verification.vouches), with defaults.
import type { DbOrTrx } from '../../db/database.ts';
import { AppError } from '../../errors.ts';
import { getSetting } from '../settings/settings.repository.ts';

export const VERIFICATION_METHODS = ['letter', 'vouch', 'counter'] as const;
export type VerificationMethod = (typeof VERIFICATION_METHODS)[number];

export const METHODS_SETTING = 'verification.methods';
export const VOUCHES_SETTING = 'verification.vouches';
export const DEFAULT_VOUCHES = 2;
/** More would never be reached in a small neighbourhood; a typo like 20 must not lock vouching for good. */
export const MAX_VOUCHES = 10;

export interface VerificationSettings {
  methods: readonly VerificationMethod[];
  /** verified neighbours who must vouch before a resident is verified */
  vouches: number;
}

/** The settings as stored, each replaced by its default when missing or not readable (never throws on a bad value). */
export async function verificationSettings(db: DbOrTrx): Promise<VerificationSettings> {
  const methods = await getSetting<unknown>(db, METHODS_SETTING);
  const vouches = await getSetting<unknown>(db, VOUCHES_SETTING);
  return {
    methods: Array.isArray(methods) ? VERIFICATION_METHODS.filter((m) => methods.some((x) => x === m)) : [...VERIFICATION_METHODS],
    vouches: Number.isInteger(vouches) && (vouches as number) >= 1 ? Math.min(vouches as number, MAX_VOUCHES) : DEFAULT_VOUCHES,
  };
}

export async function methodOn(db: DbOrTrx, method: VerificationMethod): Promise<boolean> {
  return (await verificationSettings(db)).methods.includes(method);
}

const OFF = { letter: 'LETTER_OFF', vouch: 'VOUCH_OFF', counter: 'COUNTER_OFF' } as const;

/** Refuses (403, a message saying this way of verifying is not used here) when the commune switched the method off. */
export async function assertMethodOn(db: DbOrTrx, method: VerificationMethod): Promise<VerificationSettings> {
  const settings = await verificationSettings(db);
  if (!settings.methods.includes(method)) throw new AppError(OFF[method]);
  return settings;
}
