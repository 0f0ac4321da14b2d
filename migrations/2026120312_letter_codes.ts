// One-time household codes printed on letters: stored hashed, usable by a few adults of one address, expiring.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('letter_codes')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('address_id', 'text', (c) => c.notNull().references('addresses.id').onDelete('cascade'))
    .addColumn('code_hash', 'text', (c) => c.notNull().unique())
    .addColumn('max_uses', 'integer', (c) => c.notNull())
    .addColumn('uses', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('letter_codes_address_idx').ifNotExists().on('letter_codes').column('address_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('letter_codes').ifExists().execute();
}
