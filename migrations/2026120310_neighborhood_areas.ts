// Where a neighbourhood lies: its polygon (GeoJSON) and bounding box, or rules for registers without coordinates.
import type { Kysely } from 'kysely';

async function addColumnOnce(db: Kysely<any>, table: string, column: string, type: 'text' | 'bigint' | 'integer') {
  const tables = await db.introspection.getTables();
  if (tables.find((t) => t.name === table)?.columns.some((c) => c.name === column)) return;
  await db.schema.alterTable(table).addColumn(column, type).execute();
}

export async function up(db: Kysely<any>): Promise<void> {
  await addColumnOnce(db, 'neighborhoods', 'geometry', 'text'); // GeoJSON Polygon or MultiPolygon
  await addColumnOnce(db, 'neighborhoods', 'bbox', 'text'); // JSON [minLon, minLat, maxLon, maxLat]
  await addColumnOnce(db, 'neighborhoods', 'rules', 'text'); // JSON {localities, postcodes, streets, addresses}
  await addColumnOnce(db, 'neighborhoods', 'source_name', 'text'); // the name in the imported file
  await db.schema
    .createTable('neighborhood_links')
    .ifNotExists()
    .addColumn('a_id', 'text', (c) => c.notNull().references('neighborhoods.id').onDelete('cascade'))
    .addColumn('b_id', 'text', (c) => c.notNull().references('neighborhoods.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull()) // computed | added | removed
    .addPrimaryKeyConstraint('neighborhood_links_pk', ['a_id', 'b_id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('neighborhood_links').ifExists().execute();
  for (const column of ['geometry', 'bbox', 'rules', 'source_name']) {
    const tables = await db.introspection.getTables();
    if (tables.find((t) => t.name === 'neighborhoods')?.columns.some((c) => c.name === column)) await db.schema.alterTable('neighborhoods').dropColumn(column).execute();
  }
}
