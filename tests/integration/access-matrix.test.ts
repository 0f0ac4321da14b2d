// The access matrix over every registered route, core and plugins, present and future: anonymous, unverified, member of another
// neighbourhood, member, moderator, admin. Refusals are 401/403/404 and carry no trace of the neighbourhood's content.
import t from 'tap';
import { build, clientAs, Client, ensureNeighborhood } from '../helpers/app.ts';
import echo from '../fixtures/plugins/echo/index.ts';
import type { AccessLevel } from '../../server/features/manifest.ts';

const SECRET = 'Geheimnis vu Belval';

type Role = 'anonymous' | 'unverified' | 'other' | 'member' | 'moderator' | 'admin';
const ROLES: Role[] = ['anonymous', 'unverified', 'other', 'member', 'moderator', 'admin'];

/** Who may pass a route's access level, for a URL naming the neighbourhood belval (slug) or none. */
function allowed(access: AccessLevel, role: Role, hasSlug: boolean): boolean {
  switch (access) {
    case 'public':
      return true;
    case 'authenticated':
      return role !== 'anonymous';
    case 'member':
      return role === 'member' || role === 'moderator' || (!hasSlug && role === 'other');
    case 'moderator':
      return role === 'moderator';
    case 'organization':
      return false;
    case 'admin':
      return role === 'admin';
  }
}

const concrete = (url: string) => url.replace(':slug', 'belval').replace(/:[a-zA-Z_]+/g, 'x1').replace('*', 'app.css');

t.test('every route refuses exactly the roles its access level excludes, without leaking content', async (t) => {
  const { app } = await build(t, { features: [echo] });
  const nid = await ensureNeighborhood(app, 'belval', SECRET);
  await ensureNeighborhood(app, 'lallange', 'Lalleng');
  const clients: Record<Role, Client> = {
    anonymous: new Client(app),
    unverified: (await clientAs(app, { memberships: [{ slug: 'belval', verified: false }] })).client,
    other: (await clientAs(app, { memberships: ['lallange'] })).client,
    member: (await clientAs(app, { memberships: ['belval'] })).client,
    moderator: (await clientAs(app, { memberships: [{ slug: 'belval', role: 'moderator' }] })).client,
    admin: (await clientAs(app, { role: 'admin' })).client,
  };
  void nid;
  const routes = app.routeTable.filter((r) => !r.websocket && r.method !== 'HEAD' && r.access !== 'public');
  t.ok(routes.length >= 5, `${routes.length} protected routes found`);
  for (const r of routes) {
    const url = concrete(r.url);
    const hasSlug = r.url.includes(':slug');
    for (const role of ROLES) {
      // Allowed roles may still meet a route's own checks (a permission, a missing id): their pages are tested where they live.
      if (allowed(r.access, role, hasSlug)) continue;
      const res = r.method === 'GET' ? await clients[role].get(url) : await clients[role].post(url, {});
      t.ok([401, 403, 404].includes(res.statusCode), `${role} is refused ${r.method} ${r.url} (${res.statusCode})`);
      // Members of belval see its name in their own navigation; nobody else may see it anywhere.
      if (role === 'member' || role === 'moderator') continue;
      t.notMatch(res.body, SECRET, `${role}: no trace in the body of ${r.method} ${r.url}`);
      t.notMatch(JSON.stringify(res.headers), SECRET, `${role}: no trace in the headers of ${r.method} ${r.url}`);
    }
  }
});

t.test("a member reads her own neighbourhood's page and its name", async (t) => {
  const { app } = await build(t);
  await ensureNeighborhood(app, 'belval', SECRET);
  const { client } = await clientAs(app, { memberships: ['belval'] });
  const res = await client.get('/n/belval');
  t.equal(res.statusCode, 200);
  t.match(res.body, SECRET);
});
