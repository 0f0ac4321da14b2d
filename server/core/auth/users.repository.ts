// Reading and writing accounts.
import type { DbOrTrx, NewUser, User } from '../../db/database.ts';
import { toNumber } from '../../db/dialect.ts';

export const normalizeEmail = (email: string) => email.trim().toLowerCase();

export function findUserByEmail(db: DbOrTrx, email: string): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where('email', '=', normalizeEmail(email)).executeTakeFirst();
}

export function findUserById(db: DbOrTrx, id: string): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function insertUser(db: DbOrTrx, user: NewUser): Promise<User> {
  return db.insertInto('users').values({ ...user, email: normalizeEmail(user.email) }).returningAll().executeTakeFirstOrThrow();
}

export async function countAdmins(db: DbOrTrx): Promise<number> {
  const row = await db.selectFrom('users').select((eb) => eb.fn.countAll().as('n')).where('role', '=', 'admin').executeTakeFirst();
  return toNumber(row?.n);
}

export async function setUserLang(db: DbOrTrx, id: string, lang: string | null): Promise<void> {
  await db.updateTable('users').set({ lang }).where('id', '=', id).execute();
}
