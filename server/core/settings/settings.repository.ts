// Commune-wide settings stored as JSON, and the server secrets shared by every process on the database.
import type { DbOrTrx } from '../../db/database.ts';
import { randomToken } from '../../ids.ts';

export async function getSetting<T>(db: DbOrTrx, key: string): Promise<T | undefined> {
  const row = await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
  return row ? (JSON.parse(row.value) as T) : undefined;
}

export async function setSetting(db: DbOrTrx, key: string, value: unknown): Promise<void> {
  const now = Date.now();
  await db
    .insertInto('settings')
    .values({ key, value: JSON.stringify(value), updated_at: now })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value: JSON.stringify(value), updated_at: now }))
    .execute();
}

/** A random secret created once per database; concurrent first starts agree on the same one. */
export async function getOrCreateSecret(db: DbOrTrx, name: string): Promise<string> {
  const key = `secret.${name}`;
  await db
    .insertInto('settings')
    .values({ key, value: JSON.stringify(randomToken(32)), updated_at: Date.now() })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  return (await getSetting<string>(db, key))!;
}
