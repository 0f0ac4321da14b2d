// Locale parity: every key of every core namespace and every plugin is present and non-empty in lb, fr, de and en.
import path from 'node:path';
import t from 'tap';
import { LANGUAGES } from '../../server/config.ts';
import { CORE_NAMESPACES } from '../../server/infra/i18n.ts';
import { LOCALES_DIR, PLUGINS_DIR, ROOT } from '../../server/paths.ts';
import { coreNamespaces, localeProblems, pluginLocales } from '../helpers/locales.ts';

const FIXTURE_PLUGINS_DIR = path.join(ROOT, 'tests', 'fixtures', 'plugins');

t.test('the check itself', async (t) => {
  const good = {
    lb: { a: 'Moien', nested: { b: 'Äddi' }, n_one: '{{count}} Saach', n_other: '{{count}} Saachen' },
    fr: { a: 'Bonjour', nested: { b: 'Au revoir' }, n_one: '{{count}} chose', n_other: '{{count}} choses' },
    de: { a: 'Hallo', nested: { b: 'Tschüss' }, n_one: '{{count}} Sache', n_other: '{{count}} Sachen' },
    en: { a: 'Hello', nested: { b: 'Bye' }, n_one: '{{count}} thing', n_other: '{{count}} things' },
  };

  t.test('a complete sample has no problems', async (t) => {
    t.same(localeProblems('sample', LANGUAGES, good), []);
  });

  t.test('a nested key missing in one language is reported with its language', async (t) => {
    const broken = { ...good, de: { a: 'Hallo', nested: {}, n_one: 'x', n_other: 'y' } };
    t.same(localeProblems('sample', LANGUAGES, broken), ['sample: "nested.b" is missing in de']);
  });

  t.test('a key only one language has is reported as missing in the others', async (t) => {
    const broken = { ...good, fr: { ...good.fr, extra: 'seulement en français' } };
    t.same(localeProblems('sample', LANGUAGES, broken), [
      'sample: "extra" is missing in lb',
      'sample: "extra" is missing in de',
      'sample: "extra" is missing in en',
    ]);
  });

  t.test('an empty or blank string is reported', async (t) => {
    const broken = { ...good, lb: { ...good.lb, a: '' }, en: { ...good.en, a: '  ' } };
    t.same(localeProblems('sample', LANGUAGES, broken), ['sample: "a" is empty in lb', 'sample: "a" is empty in en']);
  });

  t.test('a missing language file is reported', async (t) => {
    const { en: _en, ...rest } = good;
    t.same(localeProblems('sample', LANGUAGES, rest), ['sample: the en file is missing']);
  });

  t.test('a value that is not a string is reported', async (t) => {
    const broken = { ...good, de: { ...good.de, a: 3 } };
    t.same(localeProblems('sample', LANGUAGES, broken), ['sample: "a" in de is not a string']);
  });

  t.test('a plural form only one language needs (French "many") is allowed', async (t) => {
    const withMany = { ...good, fr: { ...good.fr, n_many: '{{count}} de choses' } };
    t.same(localeProblems('sample', LANGUAGES, withMany), []);
  });

  t.test('a missing plural form is reported', async (t) => {
    const { n_other: _o, ...lb } = good.lb;
    t.same(localeProblems('sample', LANGUAGES, { ...good, lb }), ['sample: "n_other" is missing in lb']);
  });
});

const core = coreNamespaces(LOCALES_DIR, LANGUAGES, CORE_NAMESPACES);
for (const [ns, bundles] of core) {
  t.test(`every key of the core namespace "${ns}" is present and non-empty in ${LANGUAGES.join(', ')}`, async (t) => {
    t.same(localeProblems(`locales/*/${ns}.json`, LANGUAGES, bundles), []);
  });
}

const plugins = pluginLocales(PLUGINS_DIR, LANGUAGES);
for (const [id, bundles] of plugins) {
  t.test(`every key of the plugin "${id}" is present and non-empty in ${LANGUAGES.join(', ')}`, async (t) => {
    t.same(localeProblems(`plugins/${id}/locales`, LANGUAGES, bundles), []);
  });
}

const fixtures = pluginLocales(FIXTURE_PLUGINS_DIR, LANGUAGES);
for (const [id, bundles] of fixtures) {
  t.test(`every key of the test plugin "${id}" is present and non-empty in ${LANGUAGES.join(', ')}`, async (t) => {
    t.same(localeProblems(`tests/fixtures/plugins/${id}/locales`, LANGUAGES, bundles), []);
  });
}

t.test('the check sees every core namespace and the test plugins (it cannot pass by finding nothing)', async (t) => {
  t.same([...core.keys()].sort(), [...CORE_NAMESPACES].sort());
  t.ok(fixtures.has('echo'), 'tests/fixtures/plugins/echo is checked');
});
