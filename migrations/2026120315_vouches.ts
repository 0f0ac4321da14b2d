// Neighbours vouching that a waiting resident lives at their address: one row per voucher and resident's membership.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('vouches')
    .ifNotExists()
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('neighborhood_id', 'text', (c) => c.notNull())
    .addColumn('voucher_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('vouches_pk', ['user_id', 'neighborhood_id', 'voucher_id'])
    // The vouches belong to the membership they support: it ends (moving house, deletion), they go.
    .addForeignKeyConstraint('vouches_membership_fk', ['user_id', 'neighborhood_id'], 'memberships', ['user_id', 'neighborhood_id'], (fk) => fk.onDelete('cascade'))
    .execute();
  await db.schema.createIndex('vouches_voucher_idx').ifNotExists().on('vouches').column('voucher_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('vouches').ifExists().execute();
}
