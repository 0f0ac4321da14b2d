// Opaque, sortable, app-generated ids and unguessable random tokens.
import { monotonicFactory } from 'ulid';
import { encodeBase32LowerCaseNoPadding } from '@oslojs/encoding';

const ulid = monotonicFactory();

/** A ULID in lower case: sortable by creation time, never sequential in URLs. */
export function newId(): string {
  return ulid().toLowerCase();
}

/** 120 bits of randomness as 24 base32 characters (the Lucia guide's generateSecureRandomString). */
export function randomToken(bytes = 15): string {
  const buf = new Uint8Array(bytes);
  crypto.getRandomValues(buf);
  return encodeBase32LowerCaseNoPadding(buf);
}
