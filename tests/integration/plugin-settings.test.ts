// A plugin's settings: manifest defaults, commune-wide and per-neighbourhood overrides, validated against the manifest.
import t from 'tap';
import { build, ensureNeighborhood } from '../helpers/app.ts';
import echo from '../fixtures/plugins/echo/index.ts';

t.test('settings are validated against the manifest and nothing is saved when one is wrong', async (t) => {
  const { app } = await build(t, { features: [echo] });
  const problems = await app.features.setSettings('test-echo', { limit: 99, greeting: 'salut', colour: 'red' });
  t.equal(problems.length, 2, 'limit out of range and an unknown setting');
  t.match(problems.join(' '), /limit/);
  t.match(problems.join(' '), /colour/);
  t.same(app.features.settings('test-echo'), { greeting: 'moien', limit: 3 }, 'defaults unchanged');
});

t.test('a neighbourhood override wins over the commune setting there, and only there', async (t) => {
  const { app } = await build(t, { features: [echo] });
  const belval = await ensureNeighborhood(app, 'belval');
  const lallange = await ensureNeighborhood(app, 'lallange');
  t.same(await app.features.setSettings('test-echo', { limit: 5 }), []);
  t.same(await app.features.setSettings('test-echo', { greeting: 'bonjour' }, { scope: belval }), []);
  t.same(app.features.settings('test-echo', belval), { greeting: 'bonjour', limit: 5 });
  t.same(app.features.settings('test-echo', lallange), { greeting: 'moien', limit: 5 });
  t.equal(app.features.isEnabled('test-echo', belval), true, 'saving settings does not switch the plugin off');
});
