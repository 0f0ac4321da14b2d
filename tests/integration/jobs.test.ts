// The kernel's job runner: durable rows, idempotency keys, retries with backoff, recurring schedules, one claim per job.
import t from 'tap';
import { build } from '../helpers/app.ts';
import { JobService } from '../../server/core/jobs/jobs.service.ts';

const quiet = { error() {}, warn() {}, info() {}, debug() {} } as never;

t.test('a scheduled job runs once when due, and its row is marked done', async (t) => {
  const { app } = await build(t);
  const ran: unknown[] = [];
  app.jobs.define('test.hello', (p) => void ran.push(p));
  await app.jobs.schedule('test.hello', { who: 'Nopesch' });
  t.equal(await app.jobs.runDue(), 1);
  t.same(ran, [{ who: 'Nopesch' }]);
  t.equal(await app.jobs.runDue(), 0, 'nothing left to run');
  const row = await app.db.selectFrom('jobs').selectAll().where('name', '=', 'test.hello').executeTakeFirstOrThrow();
  t.ok(row.done_at, 'done_at is set');
  t.equal(row.attempts, 1);
});

t.test('a job with the same idempotency key is scheduled only once', async (t) => {
  const { app } = await build(t);
  t.equal(await app.jobs.schedule('test.digest', {}, { key: 'digest:2026-12-03' }), true);
  t.equal(await app.jobs.schedule('test.digest', {}, { key: 'digest:2026-12-03' }), false);
  const rows = await app.db.selectFrom('jobs').select('id').where('name', '=', 'test.digest').execute();
  t.equal(rows.length, 1);
});

t.test('a job in the future waits for its time', async (t) => {
  const { app } = await build(t);
  app.jobs.define('test.later', () => {});
  await app.jobs.schedule('test.later', {}, { runAt: Date.now() + 60_000 });
  t.equal(await app.jobs.runDue(), 0);
});

t.test('a failing job is retried later with backoff and fails for good after its last attempt', async (t) => {
  const { app } = await build(t);
  let calls = 0;
  const jobs = new JobService(app.db, app.engine, quiet, 'Europe/Luxembourg');
  jobs.define('test.flaky', () => {
    calls++;
    throw new Error('SMTP server away');
  });
  await jobs.schedule('test.flaky', {}, { maxAttempts: 2 });
  t.equal(await jobs.runDue(), 1);
  let row = await app.db.selectFrom('jobs').selectAll().executeTakeFirstOrThrow();
  t.equal(row.last_error, 'SMTP server away');
  t.ok(row.run_at > Date.now() + 20_000, 'retry is pushed back');
  t.equal(row.failed_at, null);
  await app.db.updateTable('jobs').set({ run_at: Date.now() - 1 }).execute();
  t.equal(await jobs.runDue(), 1);
  row = await app.db.selectFrom('jobs').selectAll().executeTakeFirstOrThrow();
  t.ok(row.failed_at, 'failed for good after max attempts');
  t.equal(calls, 2);
  t.equal(await jobs.runDue(), 0);
});

t.test('a recurring job schedules its next occurrence in the commune time zone', async (t) => {
  const { app } = await build(t);
  const jobs = new JobService(app.db, app.engine, quiet, 'Europe/Luxembourg', 60_000);
  let runs = 0;
  jobs.every('test.daily', '0 7 * * *', () => void runs++);
  await jobs.start();
  t.teardown(() => jobs.stop());
  const first = await app.db.selectFrom('jobs').selectAll().where('name', '=', 'test.daily').executeTakeFirstOrThrow();
  const local = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Luxembourg', hour: '2-digit', minute: '2-digit' }).format(first.run_at);
  t.equal(local, '07:00', 'next run is 07:00 Luxembourg time');
  await jobs.start(); // a second start (another process) adds no duplicate
  const count = await app.db.selectFrom('jobs').select('id').where('name', '=', 'test.daily').execute();
  t.equal(count.length, 1);
  await app.db.updateTable('jobs').set({ run_at: Date.now() - 1 }).execute();
  t.equal(await jobs.runDue(), 1);
  t.equal(runs, 1);
  const pending = await app.db.selectFrom('jobs').selectAll().where('name', '=', 'test.daily').where('done_at', 'is', null).execute();
  t.equal(pending.length, 1, 'the next occurrence is waiting');
});

t.test('two runners never run the same job twice', async (t) => {
  const { app } = await build(t);
  const ran: string[] = [];
  const a = new JobService(app.db, app.engine, quiet, 'Europe/Luxembourg');
  const b = new JobService(app.db, app.engine, quiet, 'Europe/Luxembourg');
  for (const [name, svc] of [['a', a], ['b', b]] as const) {
    svc.define('test.once', async (p: { n: number }) => {
      ran.push(`${name}:${p.n}`);
      await new Promise((r) => setTimeout(r, 5));
    });
  }
  for (let n = 0; n < 20; n++) await a.schedule('test.once', { n });
  await Promise.all([a.runDue(), b.runDue()]);
  const numbers = ran.map((r) => Number(r.split(':')[1])).sort((x, y) => x - y);
  t.same(numbers, [...Array(20).keys()], 'each job ran exactly once');
});

t.test('the hourly housekeeping job removes ended sessions and spent rate-limit windows, and keeps live ones', async (t) => {
  const { app } = await build(t);
  const now = Date.now();
  const day = 86_400_000;
  await app.db.insertInto('users').values({ id: 'u1', email: 'u1@example.lu', name: 'U', password_hash: 'x', role: 'resident', lang: null, created_at: now, disabled_at: null }).execute();
  await app.db.insertInto('sessions').values([
    { id: 'old', secret_hash: 'x', user_id: 'u1', created_at: now - 40 * day, last_seen_at: now - 31 * day },
    { id: 'live', secret_hash: 'x', user_id: 'u1', created_at: now - 40 * day, last_seen_at: now - day },
  ]).execute();
  await app.db.insertInto('rate_limits').values([
    { key: 'spent', count: 3, reset_at: now - 1000 },
    { key: 'current', count: 3, reset_at: now + 60_000 },
  ]).execute();
  await app.jobs.schedule('core.cleanup', {});
  t.equal(await app.jobs.runDue(), 1);
  t.same((await app.db.selectFrom('sessions').select('id').execute()).map((r) => r.id), ['live']);
  t.same((await app.db.selectFrom('rate_limits').select('key').execute()).map((r) => r.key), ['current']);
});
