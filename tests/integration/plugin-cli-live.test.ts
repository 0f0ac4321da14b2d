// A switch made by another process (the command line) reaches a server already running on the same database within
// seconds, without a restart: SQLite through PRAGMA data_version, PostgreSQL through LISTEN/NOTIFY. And the real
// `noper plugins` command's answers on an installation without plugins.
import t from 'tap';
import { build, clientAs, freshEnv } from '../helpers/app.ts';
import { lines, noper, poll, runScript } from '../helpers/cli.ts';
import { ENGINE } from '../helpers/db.ts';
import echo, { failing } from '../fixtures/plugins/echo/index.ts';

t.test(`a plugin switched off and on from another process follows in the running server within seconds (${ENGINE})`, async (t) => {
  const { app, env } = await build(t, { features: [echo, failing] });
  const { client } = await clientAs(app, { memberships: ['belval'] });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/test-echo/`;
  const status = async () => (await fetch(url, { headers: { cookie: client.cookieHeader }, redirect: 'manual' })).status;

  // Counts the peer notifications the server receives (PostgreSQL); on SQLite nothing notifies, data_version tells.
  let invalidations = 0;
  const invalidate = app.features.invalidate.bind(app.features);
  app.features.invalidate = () => {
    invalidations++;
    invalidate();
  };

  t.equal(await status(), 200, 'on before');

  const off = await runScript('tests/fixtures/plugin-switch.ts', ['disable', 'test-echo'], { env: env.env });
  t.equal(off.code, 0, off.stderr);
  t.ok(await poll(async () => (await status()) === 404, 10_000), 'the running server answers 404 within seconds');
  if (ENGINE === 'postgres') t.ok(await poll(() => invalidations > 0, 10_000), 'told by NOTIFY, not only by the cache growing old');

  const on = await runScript('tests/fixtures/plugin-switch.ts', ['enable', 'test-echo'], { env: env.env });
  t.equal(on.code, 0, on.stderr);
  t.ok(await poll(async () => (await status()) === 200, 10_000), 'and 200 again within seconds of switching it back on');
});

t.test('noper plugins list on an installation without plugins prints the no-plugins line and exits 0', async (t) => {
  const env = await freshEnv(t);
  const ran = await noper(['plugins', 'list'], { env: env.env });
  t.equal(ran.code, 0, ran.stderr);
  t.same(lines(ran.stdout), ['No feature plugins are installed.']);
});

t.test('noper plugins enable with an unknown id exits 1 with one line on stderr and no stack trace', async (t) => {
  const env = await freshEnv(t);
  const ran = await noper(['plugins', 'enable', 'nope'], { env: env.env });
  t.equal(ran.code, 1);
  t.equal(lines(ran.stderr).length, 1, ran.stderr);
  t.match(ran.stderr, 'No feature plugin "nope" is installed');
  t.notMatch(ran.stderr, /^\s+at /m);
});
