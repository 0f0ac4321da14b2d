// Runs core migrations and each plugin's migrations, each set with its own bookkeeping table.
import { Migrator, type Kysely, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely';
import { OperatorError } from '../errors.ts';

export type MigrationSet = Record<string, Migration>;

class StaticProvider implements MigrationProvider {
  constructor(private readonly migrations: MigrationSet) {}
  async getMigrations(): Promise<MigrationSet> {
    return this.migrations;
  }
}

/** Bookkeeping table of a migration set: `noper_migrations` for the core, `noper_migrations_<plugin>` for a plugin. */
export function migrationTable(owner: string | undefined): string {
  return owner ? `noper_migrations_${owner.replace(/[^a-z0-9]/g, '_')}` : 'noper_migrations';
}

export function migratorFor(db: Kysely<any>, migrations: MigrationSet, owner?: string): Migrator {
  const table = migrationTable(owner);
  return new Migrator({
    db,
    provider: new StaticProvider(migrations),
    migrationTableName: table,
    migrationLockTableName: `${table}_lock`,
  });
}

function check(result: MigrationResultSet, owner: string | undefined): string[] {
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    // Nothing ran (no connection, no lock): the caller reports the database problem itself.
    if (!failed) throw result.error;
    const cause = result.error instanceof Error ? result.error.message : String(result.error);
    throw new OperatorError(`Migration ${failed?.migrationName ?? ''} of ${owner ?? 'the core'} failed: ${cause}`, {
      help: 'nothing after it was applied; fix the cause and run `npx noper migrate` again',
      cause: result.error,
    });
  }
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Applies every pending migration of one set; returns the names applied. */
export async function migrateUp(db: Kysely<any>, migrations: MigrationSet, owner?: string): Promise<string[]> {
  return check(await migratorFor(db, migrations, owner).migrateToLatest(), owner);
}

/** Reverts every migration of one set (tests and `noper plugins purge` only). */
export async function migrateDownAll(db: Kysely<any>, migrations: MigrationSet, owner?: string): Promise<string[]> {
  const { NO_MIGRATIONS } = await import('kysely');
  return check(await migratorFor(db, migrations, owner).migrateTo(NO_MIGRATIONS), owner);
}
