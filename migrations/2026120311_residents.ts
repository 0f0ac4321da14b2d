// A resident's home address and how their membership was verified.
import type { Kysely } from 'kysely';

async function addColumnOnce(db: Kysely<any>, table: string, column: string, type: 'text' | 'bigint' | 'integer') {
  const tables = await db.introspection.getTables();
  if (tables.find((t) => t.name === table)?.columns.some((c) => c.name === column)) return;
  await db.schema.alterTable(table).addColumn(column, type).execute();
}

export async function up(db: Kysely<any>): Promise<void> {
  await addColumnOnce(db, 'users', 'address_id', 'text');
  await addColumnOnce(db, 'users', 'review_reason', 'text'); // e.g. address_retired: an admin should look
  await addColumnOnce(db, 'memberships', 'verified_by', 'text'); // letter | vouch | counter
  await addColumnOnce(db, 'memberships', 'verified_note', 'text');
  await db.schema.createIndex('users_address_idx').ifNotExists().on('users').column('address_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('users_address_idx').ifExists().execute();
  for (const [table, column] of [['users', 'address_id'], ['users', 'review_reason'], ['memberships', 'verified_by'], ['memberships', 'verified_note']] as const) {
    const tables = await db.introspection.getTables();
    if (tables.find((t) => t.name === table)?.columns.some((c) => c.name === column)) await db.schema.alterTable(table).dropColumn(column).execute();
  }
}
