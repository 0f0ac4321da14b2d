// GET /n/:slug/neighbours: opted-in verified members of that neighbourhood only, never their e-mail, house number or full name.
import t from 'tap';
import { build, Client, createUser } from '../helpers/app.ts';
import { resident, residentClient } from '../helpers/members.ts';

type T = Parameters<Parameters<typeof t.test>[0]>[0];

/** Belval with a listed neighbour, one who did not opt in, an unverified one who opted in, and a listed member of Lallange. */
async function neighbourhood(t: T) {
  const { app } = await build(t);
  await createUser(app, { role: 'admin', email: 'admin@example.lu' });
  const listed = await resident(app, {
    name: 'Anouk Thill',
    email: 'anouk.thill@example.lu',
    street: "Rue de l'Alzette",
    number: '237B',
    profile: { languages: ['lb', 'pt'], can_help: 'Bike repairs <b>&</b> plants', new_since: '2024-03', intro: 'Hi! We moved here\nin spring.', listed: true },
  });
  const hidden = await resident(app, { name: 'Boris Hiddenfeld', email: 'boris@example.lu', street: 'Rue Secrète', number: '941', profile: { can_help: 'Secret skills', listed: false } });
  const noProfile = await resident(app, { name: 'Carla Noprofile', email: 'carla@example.lu', street: 'Rue Sans Profil', number: '17' });
  const unverified = await resident(app, { name: 'Dora Waiting', email: 'dora@example.lu', street: 'Rue Attente', number: '55', verified: false, profile: { can_help: 'Waiting skills', listed: true } });
  const elsewhere = await resident(app, { slug: 'lallange', name: 'Emil Farway', email: 'emil@example.lu', street: 'Rue Lointaine', number: '8', profile: { can_help: 'Far skills', listed: true } });
  const { client } = await residentClient(app, { name: 'Viewer Person', email: 'viewer@example.lu', street: 'Rue du Lecteur', number: '3' });
  return { app, client, listed, hidden, noProfile, unverified, elsewhere };
}

t.test('the board links to the directory', async (t) => {
  const { client } = await neighbourhood(t);
  const board = await client.get('/n/belval');
  t.equal(board.statusCode, 200);
  t.match(board.body, '<a href="/n/belval/neighbours">Neighbour directory</a>');
});

t.test('a member sees the opted-in verified neighbours of this neighbourhood with what they chose to show', async (t) => {
  const { client } = await neighbourhood(t);
  const res = await client.get('/n/belval/neighbours');
  t.equal(res.statusCode, 200);
  t.match(res.body, '<h1>Neighbour directory</h1>');
  t.match(res.body, '1 neighbour listed');
  t.match(res.body, "<h2>Anouk T., Rue de l&#x27;Alzette</h2>");
  t.match(res.body, '<dd>Luxembourgish, Portuguese</dd>');
  t.match(res.body, '<dd>Bike repairs &lt;b&gt;&amp;&lt;/b&gt; plants</dd>', 'escaped');
  t.match(res.body, '<dd>March 2024</dd>');
  t.match(res.body, '<p class="intro-text">Hi! We moved here\nin spring.</p>');
  t.match(res.body, 'You are not listed.');
  t.match(res.body, 'href="/account/profile"');
});

t.test('never an e-mail, a house number, a full surname, nor anything of members who did not opt in, are unverified or live elsewhere', async (t) => {
  const { client } = await neighbourhood(t);
  const res = await client.get('/n/belval/neighbours');
  for (const absent of ['anouk.thill@example.lu', '@example.lu', '237B', 'Thill', 'Boris', 'Hiddenfeld', 'Rue Secrète', 'Rue Secr&#xE8;te', '941', 'Secret skills', 'Carla', 'Rue Sans Profil', 'Dora', 'Waiting skills', 'Rue Attente', 'Emil', 'Far skills', 'Rue Lointaine']) {
    t.notMatch(res.body, absent, `no "${absent}"`);
  }
});

t.test('the directory of another neighbourhood is a 404 without a trace of it; anonymous visitors get 401', async (t) => {
  const { app, client } = await neighbourhood(t);
  const other = await client.get('/n/lallange/neighbours');
  t.equal(other.statusCode, 404);
  t.notMatch(other.body, 'Emil');
  t.notMatch(other.body, 'Far skills');
  const anon = await new Client(app).get('/n/belval/neighbours');
  t.equal(anon.statusCode, 401);
  t.notMatch(anon.body, 'Anouk');
});

t.test('a resident waiting for verification cannot open the directory', async (t) => {
  const { app } = await neighbourhood(t);
  const client = new Client(app);
  await client.login('dora@example.lu', 'correct horse battery');
  const res = await client.get('/n/belval/neighbours');
  t.equal(res.statusCode, 404);
  t.notMatch(res.body, 'Anouk');
});

t.test('opting in through the profile form lists me, marked as me; opting out removes me', async (t) => {
  const { client } = await neighbourhood(t);
  await client.get('/account/profile');
  const optIn = await client.post('/account/profile', { can_help: 'Reading aloud', directory: '1' });
  t.equal(optIn.statusCode, 303);
  let res = await client.get('/n/belval/neighbours');
  t.match(res.body, '2 neighbours listed');
  t.match(res.body, /<h2>Viewer P\., Rue du Lecteur <span class="state on">you<\/span><\/h2>/);
  t.match(res.body, 'You are listed.');
  t.notMatch(res.body, 'viewer@example.lu');
  await client.get('/account/profile');
  await client.post('/account/profile', { can_help: 'Reading aloud' });
  res = await client.get('/n/belval/neighbours');
  t.match(res.body, '1 neighbour listed');
  t.notMatch(res.body, 'Viewer P.');
  t.notMatch(res.body, 'Reading aloud');
});

t.test('an empty directory invites the reader to be the first', async (t) => {
  const { app } = await build(t);
  await createUser(app, { role: 'admin', email: 'admin@example.lu' });
  const { client } = await residentClient(app, { name: 'Solo Person', slug: 'belval' });
  const res = await client.get('/n/belval/neighbours?lang=de');
  t.equal(res.statusCode, 200);
  t.match(res.body, '<h1>Nachbarverzeichnis</h1>');
  t.match(res.body, 'Noch niemand steht im Verzeichnis.');
});
