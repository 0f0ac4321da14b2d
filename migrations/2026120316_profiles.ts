// What residents choose to tell their neighbours (profiles), and the mark of an erased account (users.deleted_at).
import type { Kysely } from 'kysely';

async function hasColumn(db: Kysely<any>, table: string, column: string): Promise<boolean> {
  const tables = await db.introspection.getTables();
  return !!tables.find((t) => t.name === table)?.columns.some((c) => c.name === column);
}

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('profiles')
    .ifNotExists()
    .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('languages', 'text') // JSON array of codes: lb, fr, de, en, pt, it, other
    .addColumn('can_help', 'text')
    .addColumn('new_since', 'text') // YYYY-MM
    .addColumn('intro', 'text')
    .addColumn('directory_at', 'bigint') // opted in to the neighbour directory since; null: not listed
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('profiles_directory_idx').ifNotExists().on('profiles').column('directory_at').execute();
  if (!(await hasColumn(db, 'users', 'deleted_at'))) await db.schema.alterTable('users').addColumn('deleted_at', 'bigint').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('profiles').ifExists().execute();
  if (await hasColumn(db, 'users', 'deleted_at')) await db.schema.alterTable('users').dropColumn('deleted_at').execute();
}
