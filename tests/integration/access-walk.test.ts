// Walks every registered route, core and plugins: anonymous visitors and members of another neighbourhood are refused wherever the route is not theirs.
import t from 'tap';
import { build, clientAs, Client } from '../helpers/app.ts';
import echo from '../fixtures/plugins/echo/index.ts';

/** A concrete URL for a route pattern: params filled with the victim's neighbourhood or a dummy id. */
function concrete(url: string, slug: string): string {
  return url.replace(':slug', slug).replace(/:[a-zA-Z_]+/g, 'x1').replace('*', 'app.css');
}

t.test('every route declares one of the access levels', async (t) => {
  const { app } = await build(t, { features: [echo] });
  t.ok(app.routeTable.length > 10, 'routes were collected');
  for (const r of app.routeTable) t.ok(['public', 'authenticated', 'member', 'moderator', 'organization', 'admin'].includes(r.access), `${r.method} ${r.url}: ${r.access}`);
  t.ok(app.routeTable.some((r) => r.feature === 'test-echo'), 'plugin routes carry their feature id');
});

t.test('anonymous visitors are refused on every route that is not public, with no trace of its content', async (t) => {
  const { app } = await build(t, { features: [echo] });
  const anon = new Client(app);
  for (const r of app.routeTable.filter((x) => x.access !== 'public' && !x.websocket && x.method !== 'HEAD')) {
    const url = concrete(r.url, 'belval');
    const res = r.method === 'GET' ? await anon.get(url) : await anon.post(url, {});
    t.ok([401, 403, 404].includes(res.statusCode), `${r.method} ${r.url} answers ${res.statusCode}`);
    t.notMatch(res.body, 'Echo board', `${r.method} ${r.url} shows no content`);
  }
});

t.test('a member of another neighbourhood is refused on member routes of this one, and residents on admin routes', async (t) => {
  const { app } = await build(t, { features: [echo] });
  await clientAs(app, { memberships: ['belval'] });
  const { client } = await clientAs(app, { memberships: ['lallange'] });
  for (const r of app.routeTable.filter((x) => !x.websocket && x.method !== 'HEAD')) {
    const url = concrete(r.url, 'belval');
    if (r.access === 'admin' || r.access === 'organization' || (r.access === 'member' && r.url.includes(':slug')) || r.access === 'moderator') {
      const res = r.method === 'GET' ? await client.get(url) : await client.post(url, {});
      t.ok([403, 404].includes(res.statusCode), `${r.method} ${r.url} answers ${res.statusCode}`);
    }
  }
});
