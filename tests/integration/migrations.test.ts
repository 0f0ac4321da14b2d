// Migrations on the current engine: the core's and a plugin's go up, down to nothing and up again; re-running is a
// no-op; on PostgreSQL two processes migrating an empty database at once both succeed and record each migration once.
import t from 'tap';
import { sql, type Kysely } from 'kysely';
import { migrateAll } from '../../server/app.ts';
import { connect } from '../../server/db/dialect.ts';
import { migrateDownAll, migrateUp, migrationTable } from '../../server/db/migrator.ts';
import { coreMigrations } from '../../migrations/index.ts';
import { freshEnv, type TestEnv } from '../helpers/app.ts';
import { ENGINE } from '../helpers/db.ts';
import echo, { failing } from '../fixtures/plugins/echo/index.ts';

type T = Parameters<Parameters<typeof t.test>[0]>[0];

const CORE_TABLES = ['settings', 'users', 'sessions', 'neighborhoods', 'memberships', 'feature_state', 'jobs', 'rate_limits', 'audit_log', 'addresses', 'neighborhood_links', 'letter_codes', 'vouches', 'password_resets', 'profiles'];
const BOOKKEEPING = [migrationTable(undefined), `${migrationTable(undefined)}_lock`, migrationTable('test-echo'), `${migrationTable('test-echo')}_lock`];

/** A connection to a fresh, empty database on the current engine, closed in teardown. */
async function fresh(t: T, env?: TestEnv) {
  env ??= await freshEnv(t);
  const handle = connect({ databaseUrl: env.databaseUrl, dataDir: env.dataDir });
  t.teardown(() => handle.close());
  return { handle, db: handle.db as Kysely<any>, env };
}

/** The tables of the database, without the migrators' bookkeeping. */
async function appTables(db: Kysely<any>): Promise<string[]> {
  return (await db.introspection.getTables())
    .map((x) => x.name)
    .filter((n) => !BOOKKEEPING.includes(n))
    .sort();
}

/** The migrations a bookkeeping table records, with how often each is recorded. */
async function recorded(db: Kysely<any>, table: string): Promise<Array<{ name: string; timestamp: string }>> {
  const res = await sql<{ name: string; timestamp: string }>`select name, timestamp from ${sql.table(table)} order by name`.execute(db);
  return res.rows.map((r) => ({ name: r.name, timestamp: String(r.timestamp) }));
}

t.test(`the core migrations go up, down to nothing and up again (${ENGINE})`, async (t) => {
  const { db } = await fresh(t);
  const names = Object.keys(coreMigrations).sort();

  t.same((await migrateUp(db, coreMigrations)).sort(), names, 'up: every core migration applied');
  const up = await appTables(db);
  for (const table of CORE_TABLES) t.ok(up.includes(table), `${table} exists`);

  t.same((await migrateDownAll(db, coreMigrations)).sort(), names, 'down: every core migration reverted');
  t.same(await appTables(db), [], 'no core table is left');
  t.same(await recorded(db, migrationTable(undefined)), [], 'the bookkeeping is empty');

  t.same((await migrateUp(db, coreMigrations)).sort(), names, 'up again: every core migration applied');
  t.same(await appTables(db), up, 'the same tables as the first time');
});

t.test(`the test plugin's migrations go up, down and up again with their own table (${ENGINE})`, async (t) => {
  const { db } = await fresh(t);
  await migrateUp(db, coreMigrations);
  const core = await appTables(db);
  const own = migrationTable('test-echo');

  t.same(await migrateUp(db, echo.migrations!, 'test-echo'), ['001_items'], 'up');
  t.same(await appTables(db), [...core, 'test_echo_items'].sort(), 'its table is there');
  t.same((await recorded(db, own)).map((r) => r.name), ['001_items'], `recorded in ${own}`);
  t.notOk((await recorded(db, migrationTable(undefined))).some((r) => r.name === '001_items'), "not in the core's bookkeeping");

  t.same(await migrateDownAll(db, echo.migrations!, 'test-echo'), ['001_items'], 'down');
  t.same(await appTables(db), core, 'its table is gone, the core tables are untouched');
  t.same(await recorded(db, own), [], 'its bookkeeping is empty');
  t.equal((await recorded(db, migrationTable(undefined))).length, Object.keys(coreMigrations).length, "the core's bookkeeping is untouched");

  t.same(await migrateUp(db, echo.migrations!, 'test-echo'), ['001_items'], 'up again');
  t.same(await appTables(db), [...core, 'test_echo_items'].sort());
});

t.test(`running migrateAll a second time changes nothing (${ENGINE})`, async (t) => {
  const { db } = await fresh(t);
  const features = [echo, failing];
  await migrateAll(db, features);
  const tables = await appTables(db);
  const core = await recorded(db, migrationTable(undefined));
  const own = await recorded(db, migrationTable('test-echo'));

  await migrateAll(db, features);
  t.same(await appTables(db), tables, 'same tables');
  t.same(await recorded(db, migrationTable(undefined)), core, 'core bookkeeping unchanged (names and times)');
  t.same(await recorded(db, migrationTable('test-echo')), own, 'plugin bookkeeping unchanged');
  t.same(await migrateUp(db, coreMigrations), [], 'nothing pending in the core');
  t.same(await migrateUp(db, echo.migrations!, 'test-echo'), [], 'nothing pending in the plugin');
});

t.test(
  'two connections running migrateAll at once on an empty database both succeed and record each migration once',
  { skip: ENGINE === 'sqlite' ? 'PostgreSQL only: SQLite is one file with one writer, served by one Noper process' : false },
  async (t) => {
    const env = await freshEnv(t);
    const a = await fresh(t, env);
    const b = await fresh(t, env);
    const features = [echo, failing];

    const results = await Promise.allSettled([migrateAll(a.db, features), migrateAll(b.db, features)]);
    t.same(
      results.map((r) => r.status),
      ['fulfilled', 'fulfilled'],
      results.map((r) => (r.status === 'rejected' ? String((r.reason as Error).message) : 'ok')).join('; '),
    );

    const core = (await recorded(a.db, migrationTable(undefined))).map((r) => r.name);
    t.same(core, Object.keys(coreMigrations).sort(), 'each core migration recorded exactly once');
    const own = (await recorded(a.db, migrationTable('test-echo'))).map((r) => r.name);
    t.same(own, ['001_items'], 'the plugin migration recorded exactly once');
    t.same(await appTables(a.db), [...CORE_TABLES, 'test_echo_items'].sort(), 'every table exists');
  },
);
