// Limits per account as well as per client address, kept in the database: they hold however X-Forwarded-For is spoofed, and say nothing about whether an account exists.
import t from 'tap';
import { build, Client, createUser } from '../helpers/app.ts';
import { accountKey, hit, peek, undo } from '../../server/infra/rate-limit.ts';

type App = Awaited<ReturnType<typeof build>>['app'];

/** A visitor holding the CSRF token of this page. */
async function visitorOn(app: App, url: string) {
  const client = new Client(app);
  const page = await client.get(url);
  if (page.statusCode !== 200) throw new Error(`${url}: ${page.statusCode}`);
  return client;
}

/** A different forged client address for every request. */
let n = 0;
const spoofed = () => ({ 'x-forwarded-for': `198.51.100.${(n++ % 250) + 1}` });

t.test('hit counts within a window, says when the limit is passed, and starts over when the window is spent', async (t) => {
  const { app } = await build(t);
  const key = accountKey('test', 'someone@example.lu');
  t.notMatch(key, 'someone', 'the key holds no e-mail address');
  const now = 1_000_000;
  t.match(await hit(app.db, key, 2, 1000, now), { limited: false, current: 1, retryAfterMs: 1000 });
  t.match(await hit(app.db, key, 2, 1000, now + 100), { limited: false, current: 2, retryAfterMs: 900 });
  t.match(await hit(app.db, key, 2, 1000, now + 200), { limited: true, current: 3 });
  await undo(app.db, key);
  t.equal((await peek(app.db, key, now + 300)).current, 2, 'undo takes one back');
  t.match(await hit(app.db, key, 2, 1000, now + 1000), { limited: false, current: 1 }, 'a new window');
});

t.test('failed logins are limited per e-mail address even when every attempt forges another X-Forwarded-For', async (t) => {
  const { app } = await build(t);
  const user = await createUser(app);
  const client = await visitorOn(app, '/login');
  for (let i = 1; i <= 10; i++) {
    const res = await client.post('/login', { email: user.email, password: `guess ${i}` }, spoofed());
    if (res.statusCode !== 401) t.fail(`attempt ${i} answered ${res.statusCode}`);
  }
  const res = await client.post('/login', { email: user.email, password: user.password }, spoofed());
  t.equal(res.statusCode, 429, 'not even the right password gets in');
  t.ok(Number(res.headers['retry-after']) > 60, 'for the rest of the 15-minute window');
  t.notOk(res.cookies.some((c) => c.name === 'noper_session' && c.value), 'no session');
  const other = await createUser(app);
  t.equal((await client.post('/login', { email: other.email, password: other.password }, spoofed())).statusCode, 303, 'another account is not affected');
});

t.test('behind a trusted proxy, where every client address is new, the per-account limit still holds', async (t) => {
  const { app } = await build(t, { env: { TRUST_PROXY: '127.0.0.1' } });
  const user = await createUser(app);
  const client = await visitorOn(app, '/login');
  for (let i = 1; i <= 10; i++) await client.post('/login', { email: user.email, password: `guess ${i}` }, spoofed());
  t.equal((await client.post('/login', { email: user.email, password: user.password }, spoofed())).statusCode, 429);
});

t.test('the login limit answers an unknown e-mail address with the very same page as a registered one', async (t) => {
  const { app } = await build(t, { env: { TRUST_PROXY: '127.0.0.1' } });
  const user = await createUser(app);
  const client = await visitorOn(app, '/login');
  const limited: Array<{ statusCode: number; body: string }> = [];
  for (const email of [user.email, 'nobody@example.lu']) {
    for (let i = 1; i <= 10; i++) await client.post('/login', { email, password: `guess ${i}` }, spoofed());
    limited.push(await client.post('/login', { email, password: 'one more guess' }, spoofed()));
  }
  t.equal(limited[0]!.statusCode, 429);
  t.equal(limited[1]!.statusCode, 429);
  t.equal(limited[1]!.body.replace(/\d+ seconds/, 'N seconds'), limited[0]!.body.replace(/\d+ seconds/, 'N seconds'));
});

t.test('successful logins do not count against the account', async (t) => {
  const { app } = await build(t, { env: { TRUST_PROXY: '127.0.0.1' } });
  const user = await createUser(app);
  for (let i = 1; i <= 12; i++) {
    const client = await visitorOn(app, '/login');
    const res = await client.post('/login', { email: user.email, password: user.password }, spoofed());
    if (res.statusCode !== 303) t.fail(`login ${i} answered ${res.statusCode}`);
  }
  t.pass('twelve logins in a row');
});

t.test('reset requests are limited per e-mail address, from however many client addresses, and the same for unknown addresses', async (t) => {
  const { app } = await build(t, { env: { TRUST_PROXY: '127.0.0.1' } });
  const user = await createUser(app);
  const answers: number[] = [];
  for (const email of [user.email, 'nobody@example.lu']) {
    const client = await visitorOn(app, '/password/forgot');
    for (let i = 1; i <= 5; i++) {
      const res = await client.post('/password/forgot', { email }, spoofed());
      if (res.statusCode !== 303) t.fail(`request ${i} for ${email} answered ${res.statusCode}`);
    }
    answers.push((await client.post('/password/forgot', { email }, spoofed())).statusCode);
  }
  t.same(answers, [429, 429]);
  await app.jobs.runDue();
  t.equal((await app.db.selectFrom('password_resets').select('id').execute()).length, 1, 'at most one live link for the account');
});

t.test('reset requests are limited per client address: a spoofed X-Forwarded-For does not reset the count', async (t) => {
  const { app } = await build(t);
  const client = await visitorOn(app, '/password/forgot');
  for (let i = 1; i <= 10; i++) {
    const res = await client.post('/password/forgot', { email: `someone-${i}@example.lu` }, spoofed());
    if (res.statusCode !== 303) t.fail(`request ${i} answered ${res.statusCode}`);
  }
  const res = await client.post('/password/forgot', { email: 'someone-11@example.lu' }, spoofed());
  t.equal(res.statusCode, 429);
  t.ok(res.headers['retry-after']);
});

t.test('registration is limited per client address: a spoofed X-Forwarded-For does not reset the count', async (t) => {
  const { app } = await build(t);
  const client = await visitorOn(app, '/register');
  for (let i = 1; i <= 10; i++) {
    const res = await client.post('/register', { name: 'Anouk', email: `p${i}@example.lu`, password: 'correct horse battery', address_id: '' }, spoofed());
    if (res.statusCode !== 400) t.fail(`attempt ${i} answered ${res.statusCode}`);
  }
  const res = await client.post('/register', { name: 'Anouk', email: 'p11@example.lu', password: 'correct horse battery', address_id: '' }, spoofed());
  t.equal(res.statusCode, 429);
});
