// The feature-plugin host: manifests validated at boot, routes that must declare access, listeners after commit only,
// switches per commune and per neighbourhood, settings, permission guards, and each plugin's own tables and migrations.
import { setImmediate as nextTurn } from 'node:timers/promises';
import t from 'tap';
import pg from 'pg';
import { sql } from 'kysely';
import { buildApp } from '../../server/app.ts';
import { loadConfig } from '../../server/config.ts';
import { connect } from '../../server/db/dialect.ts';
import { migrateUp, migrationTable } from '../../server/db/migrator.ts';
import { OperatorError } from '../../server/errors.ts';
import { COMMUNE } from '../../server/features/state.ts';
import { defineFeature, newId, tablePrefix, type FeatureDefinition, type FeatureManifest } from '../../server/plugin-api.ts';
import { coreMigrations } from '../../migrations/index.ts';
import { installedFeatures } from '../../plugins/index.ts';
import { build, clientAs, ensureNeighborhood, freshEnv } from '../helpers/app.ts';
import { poll } from '../helpers/cli.ts';
import { ENGINE, PG_URL } from '../helpers/db.ts';
import echo, { failing, seen } from '../fixtures/plugins/echo/index.ts';

type T = Parameters<Parameters<typeof t.test>[0]>[0];

/** A minimal valid plugin, with the manifest fields and definition parts given replacing the defaults. */
function plugin(manifest: Partial<FeatureManifest> = {}, rest: Partial<FeatureDefinition> = {}): FeatureDefinition {
  return defineFeature({ manifest: { id: 'test-other', version: '1.0.0', coreApi: '^1.0.0', defaultEnabled: true, ...manifest }, ...rest });
}

/** Builds the app with these plugins and returns what the boot threw (the test fails if it booted). */
async function bootError(t: T, features: FeatureDefinition[]): Promise<unknown> {
  const env = await freshEnv(t);
  try {
    const app = await buildApp(loadConfig(env.env), { logger: false, features });
    t.teardown(() => app.close());
  } catch (err) {
    return err;
  }
  t.fail('the server booted');
  return undefined;
}

/** The boot failed with an operator error that names the plugin and the problem, says when, and helps, on one line. */
async function refusesBoot(t: T, features: FeatureDefinition[], id: string, problem: RegExp): Promise<void> {
  const err = await bootError(t, features);
  t.ok(err instanceof OperatorError, 'an OperatorError, not a crash');
  if (!(err instanceof OperatorError)) return;
  t.match(err.message, `Feature plugin "${id}"`, 'names the plugin');
  t.match(err.message, problem, 'says what is wrong');
  t.equal(err.context, 'while validating plugin manifests at boot');
  t.ok(err.help, 'says how to fix it');
  t.notMatch(err.oneLine(), /\n/, 'fits on one line');
}

/** Emits board.post.created inside ctx.transaction and reports whether echo's listener had run before the commit. */
const witness = defineFeature({
  manifest: { id: 'test-witness', version: '1.0.0', coreApi: '^1.0.0', defaultEnabled: true },
  routes(app, ctx) {
    app.post('/emit', { config: { access: 'member' } }, async (req) => {
      const postId = newId();
      const neighborhoodId = req.memberships.find((m) => m.verified)!.neighborhoodId;
      let seenBeforeCommit = false;
      await ctx.transaction(async () => {
        ctx.events.emit('board.post.created', { postId, neighborhoodId, authorId: req.user!.id });
        // Give an eagerly delivered event every chance to reach the listener while the transaction is still open.
        await nextTurn();
        seenBeforeCommit = sawPost(postId);
      });
      return { postId, seenBeforeCommit };
    });
  },
});

/** Did echo's listener receive the event about this post? */
const sawPost = (postId: string) => seen.some((s) => (s.payload as { postId?: string }).postId === postId);

const tableNames = async (db: { introspection: { getTables(): Promise<Array<{ name: string }>> } }) =>
  (await db.introspection.getTables()).map((x) => x.name).sort();

// --- manifest validation -------------------------------------------------------------------------------------

t.test('a plugin id that is not kebab-case stops the boot with a clear operator error', async (t) => {
  await refusesBoot(t, [plugin({ id: 'Test_Other' })], 'Test_Other', /kebab-case/);
});

t.test('a plugin listed twice stops the boot with a clear operator error', async (t) => {
  await refusesBoot(t, [echo, plugin({ id: 'test-echo' })], 'test-echo', /listed twice/);
});

t.test('a plugin version that is not semver stops the boot with a clear operator error', async (t) => {
  await refusesBoot(t, [plugin({ version: '1.0' })], 'test-other', /version "1\.0" is not semver/);
});

t.test('a plugin that needs a core API this Noper does not offer stops the boot with a clear operator error', async (t) => {
  await refusesBoot(t, [plugin({ coreApi: '^2.0.0' })], 'test-other', /needs core API \^2\.0\.0/);
});

t.test('a plugin that depends on a plugin not installed stops the boot with a clear operator error', async (t) => {
  await refusesBoot(t, [echo, plugin({ dependencies: ['test-echo', 'nope'] })], 'test-other', /depends on "nope", which is not installed/);
});

t.test('a plugin setting whose default has the wrong type stops the boot with a clear operator error', async (t) => {
  const bad = plugin({ settings: { limit: { type: 'integer', default: '3' as unknown as number } } });
  await refusesBoot(t, [bad], 'test-other', /setting "limit" has a default of the wrong type/);
});

t.test('a plugin listener that is not a function stops the boot with a clear operator error', async (t) => {
  const bad = plugin({}, { on: { 'board.post.created': 'notify everyone' as never } });
  await refusesBoot(t, [bad], 'test-other', /listener of "board\.post\.created" is not a function/);
});

t.test('an invalid manifest stops the boot before any plugin migration runs', async (t) => {
  const env = await freshEnv(t);
  const err = await buildApp(loadConfig(env.env), { logger: false, features: [echo, plugin({ version: 'one' })] }).then(
    (app) => app.close(),
    (e: unknown) => e,
  );
  t.ok(err instanceof OperatorError);
  const handle = connect({ databaseUrl: env.databaseUrl, dataDir: env.dataDir });
  t.teardown(() => handle.close());
  const tables = await tableNames(handle.db);
  t.notOk(tables.includes('test_echo_items'), "the valid plugin's table was not created");
  t.notOk(tables.includes(migrationTable('test-echo')), "nor its bookkeeping table");
});

t.test('a plugin route without config.access makes buildApp reject', async (t) => {
  const open = plugin({ id: 'test-open' }, { routes: (app) => void app.get('/', async () => 'anyone') });
  const err = await bootError(t, [open]);
  t.ok(err instanceof OperatorError, 'an OperatorError');
  t.match((err as Error).message, /Route GET \/test-open\/? declares no access level/);
  t.match((err as OperatorError).help, "add config: { access: 'public'");
});

t.test('a refused boot leaves no database connection open', { skip: ENGINE === 'sqlite' ? 'PostgreSQL only: an embedded SQLite file has no server-side connections to count' : false }, async (t) => {
  const env = await freshEnv(t);
  const open = plugin({ id: 'test-open' }, { routes: (app) => void app.get('/', async () => 'anyone') });
  const err = await buildApp(loadConfig(env.env), { logger: false, features: [open] }).then(
    (app) => app.close(),
    (e: unknown) => e,
  );
  t.ok(err instanceof OperatorError, 'the boot was refused after migrating');
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  t.teardown(() => admin.end());
  const dbName = new URL(env.databaseUrl!).pathname.slice(1);
  const count = async () => Number((await admin.query('select count(*) as n from pg_stat_activity where datname = $1', [dbName])).rows[0].n);
  t.ok(await poll(async () => (await count()) === 0, 5000), 'every connection to the database was closed');
});

// --- events ------------------------------------------------------------------------------------------------

t.test("a plugin's listener runs after the emitting transaction commits, not while it is open", async (t) => {
  const { app } = await build(t, { features: [echo, failing, witness] });
  const { client } = await clientAs(app, { memberships: ['belval'] });
  const res = await client.post('/test-witness/emit');
  t.equal(res.statusCode, 200);
  const { postId, seenBeforeCommit } = res.json() as { postId: string; seenBeforeCommit: boolean };
  t.equal(seenBeforeCommit, false, 'nothing delivered inside the transaction');
  await app.bus.drain();
  t.ok(sawPost(postId), 'delivered once committed');
});

t.test("a plugin's listener receives the event of a committed write, whose row is then in the database", async (t) => {
  const { app } = await build(t, { features: [echo, failing] });
  const { client } = await clientAs(app, { memberships: ['belval'] });
  const res = await client.post('/test-echo/items', { text: 'Moien' });
  t.equal(res.statusCode, 303);
  await app.bus.drain();
  const rows = await app.db.selectFrom('test_echo_items' as never).select('id' as never).where('text' as never, '=', 'Moien' as never).execute();
  t.equal(rows.length, 1);
  t.ok(sawPost((rows[0] as { id: string }).id), 'the listener saw the post that was committed');
});

t.test("a plugin's listener never runs for a transaction that rolled back", async (t) => {
  const { app } = await build(t, { features: [echo, failing] });
  const { client } = await clientAs(app, { memberships: ['belval'] });
  const before = seen.length;
  const res = await client.post('/test-echo/items', { text: 'never', fail: 'yes' });
  t.equal(res.statusCode, 409);
  await app.bus.drain();
  t.equal(seen.length, before, 'no event delivered');
  const rows = await app.db.selectFrom('test_echo_items' as never).selectAll().execute();
  t.equal(rows.length, 0, 'and nothing was written');
});

t.test('the listeners of a disabled plugin do not run', async (t) => {
  const { app } = await build(t, { features: [echo, failing, witness] });
  const { client } = await clientAs(app, { memberships: ['belval'] });
  await app.features.set('test-echo', false);
  let res = await client.post('/test-witness/emit');
  t.equal(res.statusCode, 200);
  await app.bus.drain();
  t.notOk(sawPost(res.json().postId), 'switched off: not delivered');

  await app.features.set('test-echo', true);
  res = await client.post('/test-witness/emit');
  await app.bus.drain();
  t.ok(sawPost(res.json().postId), 'switched on again: delivered');
});

t.test("the listeners of a plugin switched off in one neighbourhood do not run for that neighbourhood's events", async (t) => {
  const { app } = await build(t, { features: [echo, failing, witness] });
  const belval = (await clientAs(app, { memberships: ['belval'] })).client;
  const lallgen = (await clientAs(app, { memberships: ['lallgen'] })).client;
  await app.features.set('test-echo', false, { scope: await ensureNeighborhood(app, 'belval') });
  const inBelval = (await belval.post('/test-witness/emit')).json().postId;
  const inLallgen = (await lallgen.post('/test-witness/emit')).json().postId;
  await app.bus.drain();
  t.notOk(sawPost(inBelval), 'not for Belval');
  t.ok(sawPost(inLallgen), 'still for Lallgen');
});

// --- switches and settings -----------------------------------------------------------------------------------

t.test('a per-neighbourhood override switches a plugin off for that neighbourhood only', async (t) => {
  const { app } = await build(t, { features: [echo, failing] });
  const belval = (await clientAs(app, { memberships: ['belval'] })).client;
  const lallgen = (await clientAs(app, { memberships: ['lallgen'] })).client;
  const belvalId = await ensureNeighborhood(app, 'belval');
  await app.features.set('test-echo', false, { scope: belvalId });

  t.equal((await belval.get('/test-echo/')).statusCode, 404, 'off in Belval');
  t.notMatch((await belval.get('/n/belval')).body, 'href="/test-echo/"', 'and gone from Belval navigation');
  t.equal((await lallgen.get('/test-echo/')).statusCode, 200, 'still on in Lallgen');
  t.match((await lallgen.get('/n/lallgen')).body, 'href="/test-echo/"', 'and in Lallgen navigation');
  t.ok(app.features.communeEnabled('test-echo'), 'the commune-wide switch is untouched');
});

t.test('a neighbourhood cannot switch on a plugin the commune switched off', async (t) => {
  const { app } = await build(t, { features: [echo, failing] });
  const belval = (await clientAs(app, { memberships: ['belval'] })).client;
  const belvalId = await ensureNeighborhood(app, 'belval');
  await app.features.set('test-echo', false, { scope: COMMUNE });
  await app.features.set('test-echo', true, { scope: belvalId });

  t.equal(app.features.isEnabled('test-echo', belvalId), false);
  t.equal((await belval.get('/test-echo/')).statusCode, 404);
  t.notMatch((await belval.get('/n/belval')).body, 'href="/test-echo/"');
});

t.test("a plugin's settings are its manifest defaults, overridden commune-wide, then per neighbourhood", async (t) => {
  const { app } = await build(t, { features: [echo, failing] });
  const { client } = await clientAs(app, { memberships: ['belval'] });
  const belvalId = await ensureNeighborhood(app, 'belval');

  t.same(app.features.settings('test-echo'), { greeting: 'moien', limit: 3 }, 'defaults from the manifest');
  t.match((await client.get('/test-echo/')).body, '<p class="greeting">moien</p>', 'ctx.settings() gives the plugin its default');

  // The admin switch writes these rows; a settings override is a JSON object in the same row.
  await app.features.set('test-echo', true, { scope: COMMUNE });
  await app.features.set('test-echo', true, { scope: belvalId });
  await app.db.updateTable('feature_state').set({ settings: JSON.stringify({ greeting: 'salut' }) }).where('feature_id', '=', 'test-echo').where('scope', '=', COMMUNE).execute();
  await app.db.updateTable('feature_state').set({ settings: JSON.stringify({ limit: 5 }) }).where('feature_id', '=', 'test-echo').where('scope', '=', belvalId).execute();
  app.features.invalidate();
  await app.features.refresh();

  t.same(app.features.settings('test-echo'), { greeting: 'salut', limit: 3 }, 'commune-wide override over the default');
  t.same(app.features.settings('test-echo', belvalId), { greeting: 'salut', limit: 5 }, 'neighbourhood override over both');
  t.match((await client.get('/test-echo/')).body, '<p class="greeting">salut</p>', 'the plugin sees the override');
});

// --- guards --------------------------------------------------------------------------------------------------

t.test("ctx.guards.can('moderate') refuses a plain member", async (t) => {
  const { app } = await build(t, { features: [echo, failing] });
  const { client } = await clientAs(app, { memberships: ['belval'] });
  const res = await client.get('/test-echo/moderation');
  t.equal(res.statusCode, 403);
  t.not(res.body, 'moderation', 'the handler did not run');
});

t.test("ctx.guards.can('moderate') lets a moderator in", async (t) => {
  const { app } = await build(t, { features: [echo, failing] });
  const { client } = await clientAs(app, { memberships: [{ slug: 'belval', role: 'moderator' }] });
  const res = await client.get('/test-echo/moderation');
  t.equal(res.statusCode, 200);
  t.equal(res.body, 'moderation');
});

// --- tables and migrations -----------------------------------------------------------------------------------

t.test("every table a plugin's migrations create starts with the plugin's table prefix", async (t) => {
  const env = await freshEnv(t);
  const handle = connect({ databaseUrl: env.databaseUrl, dataDir: env.dataDir });
  t.teardown(() => handle.close());
  await migrateUp(handle.db, coreMigrations);
  const plugins = [...installedFeatures, echo].filter((d) => d.migrations && Object.keys(d.migrations).length);
  t.ok(plugins.some((d) => d.manifest.id === 'test-echo'), 'the test plugin is among those checked');
  for (const def of plugins) {
    const id = def.manifest.id;
    const bookkeeping = [migrationTable(id), `${migrationTable(id)}_lock`];
    const before = new Set(await tableNames(handle.db));
    await migrateUp(handle.db, def.migrations!, id);
    const created = (await tableNames(handle.db)).filter((n) => !before.has(n) && !bookkeeping.includes(n));
    t.ok(created.length > 0, `${id} created tables`);
    for (const name of created) t.ok(name.startsWith(tablePrefix(id)), `${id}: table ${name} starts with ${tablePrefix(id)}`);
  }
});

t.test("a plugin's migrations are recorded in its own bookkeeping table, noper_migrations_test_echo", async (t) => {
  const { app } = await build(t, { features: [echo, failing] });
  const tables = await tableNames(app.db);
  t.ok(tables.includes('noper_migrations_test_echo'));
  t.equal(migrationTable('test-echo'), 'noper_migrations_test_echo');
  const own = await sql<{ name: string }>`select name from ${sql.table('noper_migrations_test_echo')}`.execute(app.db);
  t.same(own.rows.map((r) => r.name), ['001_items']);
  const core = await sql<{ name: string }>`select name from ${sql.table('noper_migrations')}`.execute(app.db);
  t.notOk(core.rows.some((r) => r.name === '001_items'), "the core's bookkeeping does not hold it");
  t.same(core.rows.map((r) => r.name).sort(), Object.keys(coreMigrations).sort(), 'the core bookkeeping holds exactly the core migrations');
});

t.test('a listener of an event the core does not have refuses the boot (a typo would never fire)', async (t) => {
  await refusesBoot(t, [plugin({}, { on: { 'board.post.craeted': () => {} } as never })], 'test-other', /no core event/);
});

t.test('a dependency cycle refuses the boot', async (t) => {
  await refusesBoot(t, [plugin({ id: 'test-a', dependencies: ['test-b'] }), plugin({ id: 'test-b', dependencies: ['test-a'] })], 'test-a', /depends on itself/);
});

t.test('an id the core keeps for itself refuses the boot', async (t) => {
  await refusesBoot(t, [plugin({ id: 'admin' })], 'admin', /core keeps/);
});

t.test('two plugins sharing a dependency (a diamond) are both on', async (t) => {
  const { app } = await build(t, {
    features: [plugin({ id: 'test-d' }), plugin({ id: 'test-b', dependencies: ['test-d'] }), plugin({ id: 'test-c', dependencies: ['test-d'] }), plugin({ id: 'test-a', dependencies: ['test-b', 'test-c'] })],
  });
  t.equal(app.features.isEnabled('test-a'), true);
  await app.features.set('test-d', false);
  t.equal(app.features.isEnabled('test-a'), false, 'off when the shared dependency is off');
});

t.test('a switch emits feature.switched to listeners after it is saved', async (t) => {
  const got: unknown[] = [];
  const listener = plugin({ id: 'test-listener' }, { on: { 'feature.switched': (e) => void got.push(e) } });
  const { app } = await build(t, { features: [echo, listener] });
  await app.features.set('test-echo', false);
  await app.bus.drain();
  t.same(got, [{ featureId: 'test-echo', scope: COMMUNE, enabled: false }]);
});

t.test("a plugin's job idempotency keys live in its own namespace", async (t) => {
  const { app } = await build(t, { features: [echo] });
  t.equal(await app.jobs.schedule('core.something', {}, { key: 'daily' }), true);
  // The echo plugin's context schedules under test-echo.*: the same key does not collide with the core's.
  const ctx = (await import('../../server/features/context.ts')).createContext(echo, 'x', {
    db: app.db, engine: app.engine, i18n: app.i18n, bus: app.bus, state: app.features, jobs: app.jobs, mail: app.mail, realtime: app.realtime, log: app.log,
  });
  t.equal(await ctx.jobs.schedule('digest', {}, { key: 'daily' }), true);
  const keys = (await app.db.selectFrom('jobs').select('idempotency_key').execute()).map((r) => r.idempotency_key).sort();
  t.same(keys, ['daily', 'test-echo.daily']);
});
