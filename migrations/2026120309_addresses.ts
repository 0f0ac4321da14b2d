// The commune's address register: one row per address, its point if known, and the neighbourhood it belongs to.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('addresses')
    .ifNotExists()
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('source', 'text', (c) => c.notNull()) // caclr | generic
    .addColumn('external_id', 'text', (c) => c.notNull())
    .addColumn('street', 'text', (c) => c.notNull())
    .addColumn('number', 'text', (c) => c.notNull()) // '' when the register has none
    .addColumn('number_sort', 'integer', (c) => c.notNull())
    .addColumn('postcode', 'text', (c) => c.notNull())
    .addColumn('locality', 'text', (c) => c.notNull())
    .addColumn('commune', 'text')
    .addColumn('designation', 'text')
    .addColumn('lon', 'double precision')
    .addColumn('lat', 'double precision')
    .addColumn('point_kind', 'text') // exact | approximate
    .addColumn('search_key', 'text', (c) => c.notNull())
    .addColumn('neighborhood_id', 'text', (c) => c.references('neighborhoods.id').onDelete('set null'))
    .addColumn('assigned_by', 'text') // point | rule | manual
    .addColumn('review', 'text') // unassigned | ambiguous
    .addColumn('candidates', 'text') // JSON ids when ambiguous
    .addColumn('retired_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('addresses_source_external_uq', ['source', 'external_id'])
    .execute();
  await db.schema.createIndex('addresses_neighborhood_idx').ifNotExists().on('addresses').columns(['neighborhood_id', 'street', 'number_sort']).execute();
  await db.schema.createIndex('addresses_review_idx').ifNotExists().on('addresses').column('review').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('addresses').ifExists().execute();
}
