// Creating a resident's account at an address of the register; never reveals whether an e-mail address is registered.
import type { Address, Db, User } from '../../db/database.ts';
import type { EventBus } from '../../features/events.ts';
import { newId } from '../../ids.ts';
import { findAddress } from '../addresses/addresses.repository.ts';
import { redeemForResident } from '../verification/verification.service.ts';
import { methodOn } from '../verification/verification-settings.ts';
import { emailProblem, nameProblem } from './auth.service.ts';
import { isCommonPassword } from './common-passwords.ts';
import { hashPassword, passwordProblem } from './passwords.ts';
import { findUserByEmail, normalizeEmail } from './users.repository.ts';

export const REGISTRATION_FIELDS = ['name', 'email', 'password', 'address_id', 'code'] as const;
export type RegistrationField = (typeof REGISTRATION_FIELDS)[number];

/** Only these fields of a submitted form are read; anything else (role, neighborhood_id, verified, ...) is ignored. */
export interface RegistrationInput {
  name: string;
  email: string;
  password: string;
  addressId: string;
  code: string;
}

export type RegistrationOutcome =
  /** field -> message key (namespace included); the address when the one picked is valid */
  | { kind: 'invalid'; errors: Partial<Record<RegistrationField, string>>; address: Address | undefined }
  /** the account exists already: nothing was created; the caller answers exactly as for a new account */
  | { kind: 'exists'; existing: User }
  | { kind: 'created'; user: User; neighborhoodId: string | null; verified: boolean; codeRejected: boolean };

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** The registration fields of a request body, each a string ('' when absent or not a string). */
export function registrationInput(body: unknown): RegistrationInput {
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  return { name: str(b.name), email: str(b.email), password: str(b.password), addressId: str(b.address_id).trim(), code: str(b.code).trim() };
}

/** Checks every field and returns all problems at once, so the form shows them together. */
export async function validateRegistration(db: Db, input: RegistrationInput): Promise<{ errors: Partial<Record<RegistrationField, string>>; address: Address | undefined }> {
  const errors: Partial<Record<RegistrationField, string>> = {};
  const nameKey = nameProblem(input.name);
  if (nameKey) errors.name = `errors:${nameKey}`;
  const emailKey = emailProblem(input.email);
  if (emailKey) errors.email = `errors:${emailKey}`;
  const passwordKey = passwordProblem(input.password);
  if (passwordKey) errors.password = `errors:${passwordKey}`;
  else if (isCommonPassword(input.password)) errors.password = 'auth:register.error.passwordCommon';
  let address: Address | undefined;
  if (!input.addressId) errors.address_id = 'auth:register.error.addressRequired';
  else if (input.addressId.length > 100) errors.address_id = 'auth:register.error.addressUnknown';
  else {
    address = await findAddress(db, input.addressId);
    if (!address || address.retired_at !== null) {
      address = undefined;
      errors.address_id = 'auth:register.error.addressUnknown';
    }
  }
  return { errors, address };
}

function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || /UNIQUE constraint failed/.test(e?.message ?? '');
}

/**
 * Registers a resident: the account, its address, an unverified membership of the address's neighbourhood (none
 * when the address is in no neighbourhood yet) and, with a code that the letter for this address carries, the
 * verification, all in one transaction. A wrong code does not stop the registration.
 */
export async function registerResident(db: Db, bus: EventBus, input: RegistrationInput, now = Date.now()): Promise<RegistrationOutcome> {
  const { errors, address } = await validateRegistration(db, input);
  if (Object.keys(errors).length || !address) return { kind: 'invalid', errors, address };
  // Hashed before the e-mail is looked up: a registered address costs the same argon2 time as a new one.
  const passwordHash = await hashPassword(input.password);
  const existing = await findUserByEmail(db, input.email);
  if (existing) return { kind: 'exists', existing };
  // A code is tried only while the commune verifies by letter; otherwise the field is not even shown.
  const withCode = input.code !== '' && address.neighborhood_id !== null && (await methodOn(db, 'letter'));
  try {
    return await bus.deferUntilCommit(() =>
      db.transaction().execute(async (trx) => {
        const user = await trx
          .insertInto('users')
          .values({
            id: newId(),
            email: normalizeEmail(input.email),
            name: input.name.trim(),
            password_hash: passwordHash,
            role: 'resident',
            lang: null,
            created_at: now,
            disabled_at: null,
            address_id: address.id,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        const neighborhoodId = address.neighborhood_id;
        if (neighborhoodId) {
          await trx.insertInto('memberships').values({ user_id: user.id, neighborhood_id: neighborhoodId, role: 'member', verified_at: null, created_at: now }).execute();
        }
        bus.emit('user.created', { userId: user.id });
        const verified = withCode ? await redeemForResident(trx, bus, user.id, address, input.code, now) : false;
        return { kind: 'created' as const, user, neighborhoodId, verified, codeRejected: withCode && !verified };
      }),
    );
  } catch (err) {
    // Two registrations with the same e-mail at once: the second one meets the unique index.
    if (isUniqueViolation(err)) {
      const raced = await findUserByEmail(db, input.email);
      if (raced) return { kind: 'exists', existing: raced };
    }
    throw err;
  }
}
