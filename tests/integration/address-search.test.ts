// GET /addresses?q=: the as-you-type search of the registration form, as an HTML fragment and as JSON.
import t from 'tap';
import { build } from '../helpers/app.ts';
import { insertAddress } from '../helpers/addresses.ts';

type T = Parameters<Parameters<typeof t.test>[0]>[0];

type App = Awaited<ReturnType<typeof build>>['app'];

const json = (app: App, q: string) => app.inject({ url: `/addresses?q=${encodeURIComponent(q)}`, headers: { accept: 'application/json' } });
const labels = async (app: App, q: string) => ((await json(app, q)).json().results as Array<{ id: string; label: string }>).map((r) => r.label);

async function register(t: T) {
  const { app } = await build(t);
  const eglise = await insertAddress(app, { street: "Rue de l'Église", number: '12', postcode: '4131' });
  await insertAddress(app, { street: 'Avenue de la Gare', number: '8', postcode: '4131' });
  await insertAddress(app, { street: 'Avenue de la Gare', number: '8A', postcode: '4131' });
  await insertAddress(app, { street: 'Avenue de la Gare', number: '18', postcode: '4131' });
  await insertAddress(app, { street: 'Boulevard Kennedy', number: '3', postcode: '4170' });
  await insertAddress(app, { street: 'Rue Disparue', number: '1', postcode: '4131', retired: true });
  return { app, eglise };
}

t.test('accents and case do not matter: "rue de l\'eglise" finds "Rue de l\'Église"', async (t) => {
  const { app, eglise } = await register(t);
  const res = await json(app, "rue de l'eglise");
  t.equal(res.statusCode, 200);
  t.match(String(res.headers['content-type']), /^application\/json/);
  t.same(res.json(), { results: [{ id: eglise.id, label: "12, Rue de l'Église, L-4131 Esch-sur-Alzette" }] });
  t.same(await labels(app, 'RUE DE L EGLISE 12'), ["12, Rue de l'Église, L-4131 Esch-sur-Alzette"]);
});

t.test('"L-4131" finds what "4131" finds', async (t) => {
  const { app } = await register(t);
  const plain = await labels(app, '4131');
  t.equal(plain.length, 4, 'the four current addresses of 4131');
  t.same(await labels(app, 'L-4131'), plain);
  t.same(await labels(app, 'l 4131'), plain);
});

t.test('a house number finds its suffixed forms ("8" finds "8A") but not other numbers ("18")', async (t) => {
  const { app } = await register(t);
  t.same(await labels(app, 'gare 8'), ['8, Avenue de la Gare, L-4131 Esch-sur-Alzette', '8A, Avenue de la Gare, L-4131 Esch-sur-Alzette']);
});

t.test('% and _ are not wildcards', async (t) => {
  const { app } = await register(t);
  t.same(await labels(app, '%%'), [], '"%%" finds nothing (not everything)');
  t.same(await labels(app, '__'), []);
  t.same(await labels(app, 'g_re'), [], '"_" does not stand for one character');
  t.same(await labels(app, 'ga%re'), [], '"%" does not stand for any characters');
  t.equal((await labels(app, 'gare')).length, 3);
});

t.test('retired addresses are not offered', async (t) => {
  const { app } = await register(t);
  t.same(await labels(app, 'disparue'), []);
});

t.test('the HTML fragment lists radio buttons carrying data-address-id, without the page layout', async (t) => {
  const { app, eglise } = await register(t);
  for (const headers of [{}, { 'hx-request': 'true' }]) {
    const res = await app.inject({ url: '/addresses?q=eglise', headers });
    t.equal(res.statusCode, 200);
    t.match(String(res.headers['content-type']), /^text\/html/);
    t.match(String(res.headers.vary), /HX-Request/);
    t.notMatch(res.body, '<html', 'a fragment, not a page');
    t.match(res.body, `<input type="radio" name="address_id" value="${eglise.id}" data-address-id="${eglise.id}"`);
    t.match(res.body, "Rue de l&#x27;Église");
  }
});

t.test('fewer than two characters give the empty-state message and no results', async (t) => {
  const { app } = await register(t);
  for (const q of ['', 'r', ' 8 ', "'"]) {
    const res = await app.inject({ url: `/addresses?q=${encodeURIComponent(q)}` });
    t.equal(res.statusCode, 200);
    t.match(res.body, 'Type at least 2 characters', `q=${JSON.stringify(q)}`);
    t.notMatch(res.body, 'data-address-id');
    t.same((await json(app, q)).json(), { results: [] });
  }
  const none = await app.inject({ url: '/addresses?q=zzzz' });
  t.match(none.body, 'No address found.');
});

t.test('at most 20 results, with a hint to type more', async (t) => {
  const { app } = await build(t);
  for (let n = 1; n <= 25; n++) await insertAddress(app, { street: 'Rue Longue', number: String(n) });
  t.equal((await labels(app, 'rue longue')).length, 20);
  const res = await app.inject({ url: '/addresses?q=rue+longue' });
  t.equal(res.body.match(/data-address-id=/g)?.length, 20);
  t.match(res.body, 'Only the first 20 addresses are shown.');
});

t.test('the search is rate-limited per client: the 61st request within a minute answers 429', async (t) => {
  const { app } = await register(t);
  for (let i = 1; i <= 60; i++) {
    const res = await json(app, 'gare');
    if (res.statusCode !== 200) t.fail(`request ${i} answered ${res.statusCode}`);
  }
  const limited = await json(app, 'gare');
  t.equal(limited.statusCode, 429);
  t.equal(limited.json().error.code, 'RATE_LIMITED');
  t.ok(limited.headers['retry-after']);
});
