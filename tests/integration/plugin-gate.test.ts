// The feature-plugin host: a disabled plugin answers 404 and leaves the navigation; switched on again it is back, without a restart.
import t from 'tap';
import { build, clientAs } from '../helpers/app.ts';
import echo, { failing } from '../fixtures/plugins/echo/index.ts';

t.test('a disabled plugin answers 404 and is gone from the navigation; enabled again it is back', async (t) => {
  const { app } = await build(t, { features: [echo, failing] });
  const { client } = await clientAs(app, { memberships: ['belval'] });
  const admin = (await clientAs(app, { role: 'admin' })).client;

  let res = await client.get('/test-echo/');
  t.equal(res.statusCode, 200);
  t.match(res.body, 'Echo board');
  t.match(res.body, 'href="/test-echo/"', 'navigation shows the plugin');

  res = await admin.post('/admin/plugins/test-echo', { enabled: 'false' });
  t.equal(res.statusCode, 303);

  res = await client.get('/test-echo/');
  t.equal(res.statusCode, 404);
  t.notMatch(res.body, 'Echo board');
  res = await client.get('/n/belval');
  t.equal(res.statusCode, 200);
  t.notMatch(res.body, 'href="/test-echo/"', 'navigation no longer shows the plugin');

  res = await admin.post('/admin/plugins/test-echo', { enabled: 'true' });
  t.equal(res.statusCode, 303);
  res = await client.get('/test-echo/');
  t.equal(res.statusCode, 200);
  t.match(res.body, 'href="/test-echo/"');
});

t.test('a failing listener is logged and does not break the action that emitted the event', async (t) => {
  const { app } = await build(t, { features: [echo, failing] });
  const { client } = await clientAs(app, { memberships: ['belval'] });
  await client.get('/test-echo/');
  const res = await client.post('/test-echo/items', { text: 'Moien' });
  t.equal(res.statusCode, 303);
  await app.bus.drain();
  const rows = await app.db.selectFrom('test_echo_items' as never).selectAll().execute();
  t.equal(rows.length, 1);
});
