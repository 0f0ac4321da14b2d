// What a resident sees of each of their sessions: a short browser and system name taken from the User-Agent (never the raw header, never the IP).
import type { Kysely } from 'kysely';

async function addColumnOnce(db: Kysely<any>, table: string, column: string) {
  const tables = await db.introspection.getTables();
  if (tables.find((t) => t.name === table)?.columns.some((c) => c.name === column)) return;
  await db.schema.alterTable(table).addColumn(column, 'text').execute();
}

export async function up(db: Kysely<any>): Promise<void> {
  await addColumnOnce(db, 'sessions', 'browser'); // e.g. Firefox; null when not recognised
  await addColumnOnce(db, 'sessions', 'os'); // e.g. Android
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const column of ['browser', 'os']) {
    const tables = await db.introspection.getTables();
    if (tables.find((t) => t.name === 'sessions')?.columns.some((c) => c.name === column)) await db.schema.alterTable('sessions').dropColumn(column).execute();
  }
}
