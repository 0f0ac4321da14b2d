// GET /ws: authenticated by the session cookie at upgrade, subscribed only to the reader's channels, closed when the session ends.
import t from 'tap';
import type { WebSocket } from 'ws';
import { build, clientAs } from '../helpers/app.ts';

function nextMessage(ws: WebSocket): Promise<string> {
  return new Promise((resolve) => ws.once('message', (d: Buffer) => resolve(d.toString())));
}

t.test('a member receives fragments published to their neighbourhood and their own channel, not others', async (t) => {
  const { app } = await build(t);
  const { client, user } = await clientAs(app, { memberships: ['belval'] });
  const ws = await app.injectWS('/ws', { headers: { cookie: client.cookieHeader } });
  t.teardown(() => ws.terminate());
  const nid = (await app.db.selectFrom('neighborhoods').select('id').where('slug', '=', 'belval').executeTakeFirstOrThrow()).id;
  const got: string[] = [];
  ws.on('message', (d: Buffer) => got.push(d.toString()));
  await app.realtime.publish('n:other-neighbourhood', '<div id="x" hx-swap-oob="true">secret</div>');
  await app.realtime.publish(`n:${nid}`, '<div id="n" hx-swap-oob="true">for belval</div>');
  await app.realtime.publish(`u:${user.id}`, '<div id="u" hx-swap-oob="true">for you</div>');
  await new Promise((r) => setTimeout(r, 50));
  t.same(got, ['<div id="n" hx-swap-oob="true">for belval</div>', '<div id="u" hx-swap-oob="true">for you</div>']);
});

t.test('an anonymous upgrade is refused', async (t) => {
  const { app } = await build(t);
  await t.rejects(app.injectWS('/ws'));
});

t.test('logging out closes the sockets of that session', async (t) => {
  const { app } = await build(t);
  const { client } = await clientAs(app, { memberships: ['belval'] });
  const ws = await app.injectWS('/ws', { headers: { cookie: client.cookieHeader } });
  const closed = new Promise<number>((r) => ws.once('close', (code: number) => r(code)));
  const res = await client.post('/logout');
  t.equal(res.statusCode, 303);
  t.equal(await closed, 4001);
});

t.test('an oversized frame closes that socket alone', async (t) => {
  const { app } = await build(t);
  const { client } = await clientAs(app, { memberships: ['belval'] });
  const a = await app.injectWS('/ws', { headers: { cookie: client.cookieHeader } });
  const b = await app.injectWS('/ws', { headers: { cookie: client.cookieHeader } });
  t.teardown(() => b.terminate());
  const closed = new Promise<number>((r) => a.once('close', (code: number) => r(code)));
  a.send('x'.repeat(10_000));
  t.equal(await closed, 1009);
  const msg = nextMessage(b);
  await app.realtime.publish(`u:${(await app.db.selectFrom('users').select('id').executeTakeFirstOrThrow()).id}`, 'still here');
  t.equal(await msg, 'still here');
});

t.test('a socket whose session ended elsewhere (expired, deleted by another process) is closed by the sweep', async (t) => {
  const { app } = await build(t);
  const { client } = await clientAs(app, { memberships: ['belval'] });
  const ws = await app.injectWS('/ws', { headers: { cookie: client.cookieHeader } });
  const closed = new Promise<number>((r) => ws.once('close', (code: number) => r(code)));
  t.equal(await app.realtime.sweep((ids) => app.sessions.alive(ids)), 0, 'a live session keeps its socket');
  await app.db.deleteFrom('sessions').execute();
  t.equal(await app.realtime.sweep((ids) => app.sessions.alive(ids)), 1);
  t.equal(await closed, 4001);
});
