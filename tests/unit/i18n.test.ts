// Languages: negotiation per request, the fallback chain lb -> de -> fr -> en, plurals and dates through Intl in the commune's time zone.
import t from 'tap';
import { createI18n, fromAcceptLanguage, negotiate } from '../../server/infra/i18n.ts';
import { hbs } from '../../server/infra/view.ts';

t.test('negotiation', async (t) => {
  const all = { query: 'de', user: 'fr', cookie: 'en', acceptLanguage: 'lb', fallback: 'en' as const };

  t.test('?lang= wins over everything else', async (t) => {
    t.equal(negotiate(all), 'de');
  });

  t.test('the user setting wins over the cookie, Accept-Language and the default', async (t) => {
    t.equal(negotiate({ ...all, query: undefined }), 'fr');
  });

  t.test('the lang cookie wins over Accept-Language and the default', async (t) => {
    t.equal(negotiate({ ...all, query: undefined, user: null }), 'en');
  });

  t.test('Accept-Language wins over the default', async (t) => {
    t.equal(negotiate({ acceptLanguage: 'lb', fallback: 'en' }), 'lb');
  });

  t.test('with nothing to go on the commune default is used', async (t) => {
    t.equal(negotiate({ fallback: 'lb' }), 'lb');
    t.equal(negotiate({ fallback: 'fr' }), 'fr');
  });

  t.test('unknown languages in every source fall back to the default', async (t) => {
    t.equal(negotiate({ query: 'xx', user: 'es', cookie: 'pt', acceptLanguage: 'it, nl;q=0.8', fallback: 'lb' }), 'lb');
  });

  t.test('an unknown language in one source gives way to the next source', async (t) => {
    t.equal(negotiate({ query: 'xx', user: 'es', cookie: 'de', fallback: 'lb' }), 'de');
  });

  t.test('a ?lang= that is not a string (repeated parameter) is ignored', async (t) => {
    t.equal(negotiate({ query: ['fr', 'de'], fallback: 'lb' }), 'lb');
  });
});

t.test('Accept-Language', async (t) => {
  t.test('region tags count as their language', async (t) => {
    t.equal(fromAcceptLanguage('fr-LU,fr;q=0.9'), 'fr');
    t.equal(fromAcceptLanguage('de-LU'), 'de');
    t.equal(fromAcceptLanguage('lb-LU'), 'lb');
    t.equal(fromAcceptLanguage('en-GB,en;q=0.9'), 'en');
  });

  t.test('the highest q-value wins, whatever the order', async (t) => {
    t.equal(fromAcceptLanguage('en;q=0.5, de;q=0.9, fr;q=0.7'), 'de');
  });

  t.test('equal q-values keep the order of the header', async (t) => {
    t.equal(fromAcceptLanguage('fr, de'), 'fr');
    t.equal(fromAcceptLanguage('de;q=0.8, fr;q=0.8'), 'de');
  });

  t.test('unsupported languages are skipped for the best supported one', async (t) => {
    t.equal(fromAcceptLanguage('pt-PT, es;q=0.9, de;q=0.5'), 'de');
  });

  t.test('q=0 means "not this language"', async (t) => {
    t.equal(fromAcceptLanguage('fr;q=0, en;q=0.1'), 'en');
    t.equal(fromAcceptLanguage('fr;q=0'), undefined);
  });

  t.test('tags are matched without regard to case', async (t) => {
    t.equal(fromAcceptLanguage('FR-lu'), 'fr');
  });

  t.test('an empty, missing or wildcard header gives no language', async (t) => {
    t.equal(fromAcceptLanguage(undefined), undefined);
    t.equal(fromAcceptLanguage(''), undefined);
    t.equal(fromAcceptLanguage('*'), undefined);
  });
});

t.test('the real i18next instance', async (t) => {
  const i18n = await createI18n();
  // A test-only namespace: "a" exists everywhere, "b" not in lb, "c" only in fr and en, "d" only in en.
  i18n.addResourceBundle('en', 'fbtest', { a: 'en a', b: 'en b', c: 'en c', d: 'en d', e: 'en e', f: 'en f' });
  i18n.addResourceBundle('fr', 'fbtest', { a: 'fr a', b: 'fr b', c: 'fr c', e: 'fr e', f: '' });
  i18n.addResourceBundle('de', 'fbtest', { a: 'de a', b: 'de b', e: 'de e', f: 'de f', g: 'de g' });
  i18n.addResourceBundle('lb', 'fbtest', { a: 'lb a', e: '' });
  const tr = (lang: string, key: string) => i18n.getFixedT(lang, 'fbtest')(key);

  t.test('Luxembourgish uses its own text when it has one', async (t) => {
    t.equal(tr('lb', 'a'), 'lb a');
  });

  t.test('a key missing in Luxembourgish falls back to German', async (t) => {
    t.equal(tr('lb', 'b'), 'de b');
  });

  t.test('a key missing in Luxembourgish and German falls back to French', async (t) => {
    t.equal(tr('lb', 'c'), 'fr c');
  });

  t.test('a key missing in Luxembourgish, German and French falls back to English', async (t) => {
    t.equal(tr('lb', 'd'), 'en d');
  });

  t.test('French and German fall back straight to English, not to each other', async (t) => {
    t.equal(tr('fr', 'd'), 'en d');
    t.equal(tr('de', 'c'), 'en c');
    t.equal(tr('fr', 'g'), 'g', 'a key only German has is not shown to a French reader');
  });

  t.test('an empty string falls back like a missing key', async (t) => {
    t.equal(tr('lb', 'e'), 'de e');
    t.equal(tr('fr', 'f'), 'en f');
  });

  // errors:rateLimited_one / _other; French counts 0 as singular, the others use the plural for 0.
  const plurals: Array<[lang: string, zero: string, one: string, two: string]> = [
    ['fr', '0 seconde', '1 seconde', '2 secondes'],
    ['en', '0 seconds', '1 second', '2 seconds'],
    ['de', '0 Sekunden', '1 Sekunde', '2 Sekunden'],
    ['lb', '0 Sekonnen', '1 Sekonn', '2 Sekonnen'],
  ];
  for (const [lang, zero, one, two] of plurals) {
    t.test(`plural forms are right in ${lang} for 0, 1 and 2`, async (t) => {
      const plural = (count: number) => String(i18n.getFixedT(lang)('errors:rateLimited', { count }));
      t.match(plural(0), new RegExp(`\\b${zero}\\b`));
      t.match(plural(1), new RegExp(`\\b${one}\\b`));
      t.match(plural(2), new RegExp(`\\b${two}\\b`));
    });
  }

  t.test('Intl date formatting through i18next honours the time zone it is given', async (t) => {
    i18n.addResourceBundle('en', 'fbtest', { when: '{{val, datetime}}' }, true, true);
    // 22:30 UTC on 30 June is already 1 July in Luxembourg (UTC+2 in summer).
    const val = new Date(Date.UTC(2024, 5, 30, 22, 30));
    const out = i18n.getFixedT('fr', 'fbtest')('when', { val, formatParams: { val: { dateStyle: 'long', timeZone: 'Europe/Luxembourg' } } });
    t.equal(out, '1 juillet 2024');
  });
});

t.test('dates on pages are formatted with Intl in the commune\'s time zone, in each language', async (t) => {
  const page = hbs.compile('{{date at style="long"}}');
  const render = (lang: string, at: number, timeZone = 'Europe/Luxembourg') => page({ lang, timeZone, at });
  // 22:30 UTC on 30 June 2024 is 00:30 on 1 July in Luxembourg (CEST); a UTC formatter would still say 30 June.
  const summer = Date.UTC(2024, 5, 30, 22, 30);
  // 23:30 UTC on 31 December 2024 is 00:30 on 1 January 2025 in Luxembourg (CET).
  const winter = Date.UTC(2024, 11, 31, 23, 30);

  t.test('near midnight UTC the Luxembourg date is shown', async (t) => {
    t.equal(render('lb', summer), '1. Juli 2024');
    t.equal(render('fr', summer), '1 juillet 2024');
    t.equal(render('de', summer), '1. Juli 2024');
    t.equal(render('en', summer), 'July 1, 2024');
    t.equal(render('en', summer, 'UTC'), 'June 30, 2024', 'the same instant in UTC is the day before');
  });

  t.test('in winter the offset is one hour, and the year changes in Luxembourg first', async (t) => {
    t.equal(render('lb', winter), '1. Januar 2025');
    t.equal(render('fr', winter), '1 janvier 2025');
    t.equal(render('de', winter), '1. Januar 2025');
    t.equal(render('en', winter), 'January 1, 2025');
  });

  t.test('the time of day is the Luxembourg wall-clock time', async (t) => {
    const withTime = hbs.compile('{{date at style="short" time=true}}');
    t.match(withTime({ lang: 'de', timeZone: 'Europe/Luxembourg', at: summer }), /00:30/);
    t.match(withTime({ lang: 'fr', timeZone: 'Europe/Luxembourg', at: winter }), /00:30/);
  });
});
