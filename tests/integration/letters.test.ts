// Letter codes (format, hashing, issuing, redeeming, concurrency) and the letters themselves: HTML, CSV and `noper letters`.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { build, createUser, ensureNeighborhood, freshEnv } from '../helpers/app.ts';
import { verifyWithCode } from '../../server/core/verification/verification.service.ts';
import { insertAddress } from '../helpers/addresses.ts';
import { lines, noper } from '../helpers/cli.ts';
import { createI18n } from '../../server/infra/i18n.ts';
import { getOrCreateSecret } from '../../server/core/settings/settings.repository.ts';
import {
  CODE_ALPHABET,
  formatCode,
  generateCode,
  hashCode,
  issueCodes,
  normalizeCode,
  redeemCode,
} from '../../server/core/verification/letter-codes.service.ts';
import { CSV_HEADER, csvField, lettersCsv, lettersHtml } from '../../server/core/verification/letters.ts';

type T = Parameters<Parameters<typeof t.test>[0]>[0];

const STACK = /^\s+at /m;
const DAY = 86_400_000;

/** A neighbourhood "belval" with three current addresses, one retired one, and one address in "lallange". */
async function commune(t: T) {
  const built = await build(t);
  const { app } = built;
  const a = await insertAddress(app, { street: "Rue de l'Église", number: '8A', neighborhood: 'belval' });
  const b = await insertAddress(app, { street: 'Avenue de la Gare', number: '5', neighborhood: 'belval' });
  const c = await insertAddress(app, { street: 'Avenue de la Gare', number: '7', neighborhood: 'belval' });
  const retired = await insertAddress(app, { street: 'Rue Disparue', number: '1', neighborhood: 'belval', retired: true });
  const other = await insertAddress(app, { street: 'Rue de Lallange', number: '3', neighborhood: 'lallange' });
  const belval = (await app.db.selectFrom('neighborhoods').select('id').where('slug', '=', 'belval').executeTakeFirstOrThrow()).id;
  return { ...built, belval, a, b, c, retired, other };
}

t.test('a code is 12 characters of an alphabet without 0, O, 1, I or L, printed as XXXX-XXXX-XXXX', async (t) => {
  for (const bad of '0O1IL') t.notOk(CODE_ALPHABET.includes(bad), `${bad} is not in the alphabet`);
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const code = generateCode();
    t.match(code, /^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{12}$/);
    seen.add(code);
  }
  t.equal(seen.size, 200, 'no two alike');
  t.equal(formatCode('ABCD2345EFGH'), 'ABCD-2345-EFGH');
});

t.test('a typed code is read without regard to case, dashes or spaces; anything else is not a code', async (t) => {
  t.equal(normalizeCode('ABCD-2345-EFGH'), 'ABCD2345EFGH');
  t.equal(normalizeCode('abcd2345efgh'), 'ABCD2345EFGH');
  t.equal(normalizeCode(' abcd 2345 efgh '), 'ABCD2345EFGH');
  t.equal(normalizeCode('abcd–2345–efgh'), 'ABCD2345EFGH', 'a typographic dash too');
  t.equal(normalizeCode('ABCD-2345-EFG'), undefined, 'too short');
  t.equal(normalizeCode('ABCD-2345-EFGHJ'), undefined, 'too long');
  t.equal(normalizeCode('ABCD-2345-EFG0'), undefined, 'a zero is no code character');
  t.equal(normalizeCode(''), undefined);
  t.equal(normalizeCode(42), undefined);
});

t.test('issuing gives one code per current address of the neighbourhood and stores only an HMAC of it', async (t) => {
  const { app, belval, a, b, c, retired, other } = await commune(t);
  const letters = await issueCodes(app.db, { neighborhoodId: belval });
  t.same(letters.map((l) => l.address.id).sort(), [a.id, b.id, c.id].sort(), 'current addresses of belval only');
  t.notOk(letters.some((l) => l.address.id === retired.id || l.address.id === other.id));
  for (const l of letters) {
    t.match(l.code, /^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    t.equal(l.maxUses, 2, 'two adults by default');
    t.ok(Math.abs(l.expiresAt - (Date.now() + 90 * DAY)) < 60_000, '90 days by default');
  }
  const rows = await app.db.selectFrom('letter_codes').selectAll().execute();
  t.equal(rows.length, 3);
  const secret = await getOrCreateSecret(app.db, 'letters');
  const dump = JSON.stringify(rows) + JSON.stringify(await app.db.selectFrom('settings').selectAll().execute());
  for (const l of letters) {
    const bare = l.code.replaceAll('-', '');
    t.notOk(dump.includes(bare) || dump.includes(l.code), `the code of ${l.address.street} ${l.address.number} is nowhere in clear`);
    const row = rows.find((r) => r.address_id === l.address.id)!;
    t.match(row.code_hash, /^[0-9a-f]{64}$/);
    t.equal(row.code_hash, hashCode(secret, bare), 'HMAC-SHA256 with the letters secret');
    t.equal(row.uses, 0);
    t.equal(row.revoked_at, null);
  }
});

t.test('the letter code opens its own address once per adult, typed in any case, with or without dashes', async (t) => {
  const { app, belval, a } = await commune(t);
  const code = (await issueCodes(app.db, { neighborhoodId: belval })).find((l) => l.address.id === a.id)!.code;
  t.equal(await redeemCode(app.db, a.id, code), true, 'as printed');
  t.equal(await redeemCode(app.db, a.id, code.replaceAll('-', '').toLowerCase()), true, 'lower case without dashes');
  t.equal(await redeemCode(app.db, a.id, code), false, 'the third adult is refused (max 2)');
  const row = await app.db.selectFrom('letter_codes').selectAll().where('address_id', '=', a.id).executeTakeFirstOrThrow();
  t.equal(row.uses, 2);
});

t.test('a wrong code, the code of another address, an expired and a revoked code are all refused alike', async (t) => {
  const { app, belval, a, b } = await commune(t);
  const first = await issueCodes(app.db, { neighborhoodId: belval });
  const codeA = first.find((l) => l.address.id === a.id)!.code;
  const codeB = first.find((l) => l.address.id === b.id)!.code;
  t.equal(await redeemCode(app.db, a.id, 'ABCD-EFGH-JKMN'), false, 'unknown code');
  t.equal(await redeemCode(app.db, a.id, 'not a code at all'), false, 'malformed');
  t.equal(await redeemCode(app.db, a.id, codeB), false, "another address's code");
  t.equal(await redeemCode(app.db, 'no-such-address', codeA), false, 'an address that does not exist');
  t.equal(await redeemCode(app.db, a.id, codeA, Date.now() + 91 * DAY), false, 'expired after 90 days');

  // New letters revoke the earlier codes of those addresses.
  const second = await issueCodes(app.db, { neighborhoodId: belval });
  t.equal(await redeemCode(app.db, a.id, codeA), false, 'the code of the earlier letter is revoked');
  const revoked = await app.db.selectFrom('letter_codes').select('revoked_at').where('address_id', '=', a.id).where('revoked_at', 'is not', null).execute();
  t.equal(revoked.length, 1);
  t.equal(await redeemCode(app.db, a.id, second.find((l) => l.address.id === a.id)!.code), true, 'the new letter works');
  const uses = await app.db.selectFrom('letter_codes').select(['uses']).where('revoked_at', 'is not', null).execute();
  t.ok(uses.every((u) => u.uses === 0), 'none of the refused attempts counted a use');
});

t.test('max uses and validity can be chosen', async (t) => {
  const { app, belval, a } = await commune(t);
  const letters = await issueCodes(app.db, { neighborhoodId: belval, maxUses: 1, validityDays: 7 });
  const code = letters.find((l) => l.address.id === a.id)!;
  t.equal(code.maxUses, 1);
  t.equal(await redeemCode(app.db, a.id, code.code, Date.now() + 8 * DAY), false, 'expired after 7 days');
  t.equal(await redeemCode(app.db, a.id, code.code), true);
  t.equal(await redeemCode(app.db, a.id, code.code), false, 'one adult only');
  await t.rejects(issueCodes(app.db, { neighborhoodId: belval, maxUses: 0 }), RangeError);
});

t.test('concurrent redemptions of one code never exceed its max uses', async (t) => {
  const { app, belval, a } = await commune(t);
  const code = (await issueCodes(app.db, { neighborhoodId: belval, maxUses: 3 })).find((l) => l.address.id === a.id)!.code;
  const attempts = await Promise.all(
    Array.from({ length: 16 }, (_, i) => (i % 2 ? redeemCode(app.db, a.id, code) : app.db.transaction().execute((trx) => redeemCode(trx, a.id, code)))),
  );
  t.equal(attempts.filter(Boolean).length, 3, 'exactly three of sixteen succeed');
  const row = await app.db.selectFrom('letter_codes').select(['uses', 'max_uses']).where('address_id', '=', a.id).executeTakeFirstOrThrow();
  t.equal(row.uses, 3);
  t.equal(row.max_uses, 3);
});

t.test('CSV: exactly the contract header, RFC 4180 quoting, CRLF line ends', async (t) => {
  t.equal(csvField('plain'), 'plain');
  t.equal(csvField('a,b'), '"a,b"');
  t.equal(csvField('say "hi"'), '"say ""hi"""');
  t.equal(csvField('two\nlines'), '"two\nlines"');
  const address = { id: 'x1', street: 'Rue "Grande", Haut', number: '12-14', postcode: '4131', locality: 'Esch-sur-Alzette' };
  const csv = lettersCsv([{ address: address as never, code: 'ABCD-2345-EFGH', expiresAt: 0, maxUses: 2 }]);
  const rows = csv.split('\r\n');
  t.equal(rows[0], 'address_id,street,number,postcode,locality,code');
  t.equal(rows[0], CSV_HEADER.join(','));
  t.equal(rows[1], 'x1,"Rue ""Grande"", Haut",12-14,4131,Esch-sur-Alzette,ABCD-2345-EFGH');
  t.equal(rows[2], '', 'ends with a line break');
});

t.test('HTML: one A4 page per address in lb, fr, de and en, the code large, the URL, the expiry date, nothing external', async (t) => {
  const { app, belval } = await commune(t);
  const letters = await issueCodes(app.db, { neighborhoodId: belval });
  const html = lettersHtml(letters, {
    communeName: 'Esch-sur-Alzette',
    neighborhoodName: 'Belval <Süd>',
    baseUrl: 'https://noper.esch.lu',
    timeZone: 'Europe/Luxembourg',
    defaultLang: 'lb',
    i18n: await createI18n(),
  });
  t.match(html, /^<!doctype html>/);
  t.match(html, /@page \{ size: A4/);
  t.match(html, /break-after: page/);
  t.equal(html.match(/<article class="letter">/g)?.length, 3, 'one letter per address');
  for (const l of letters) t.match(html, `<p class="code">${l.code}</p>`);
  t.match(html, 'https://noper.esch.lu/register');
  for (const lang of ['lb', 'fr', 'de', 'en']) t.equal(html.match(new RegExp(`<section class="lang" lang="${lang}">`, 'g'))?.length, 3, `the text in ${lang} on every letter`);
  t.match(html, "Rue de l&#39;Église", 'the address block');
  t.match(html, 'L-4131 Esch-sur-Alzette');
  t.match(html, 'Belval &lt;Süd&gt;', 'names are escaped');
  t.notMatch(html, 'Belval <Süd>');
  const date = (lang: string) => new Intl.DateTimeFormat(lang, { dateStyle: 'long', timeZone: 'Europe/Luxembourg' }).format(letters[0]!.expiresAt);
  for (const lang of ['lb', 'fr', 'de', 'en']) t.match(html, date(lang), `expiry date in ${lang}`);
  t.match(html, 'Gëlteg bis:');
  t.notMatch(html, /<script|<link|<img|src=|url\(|@import/i, 'no scripts, stylesheets, images or fonts from anywhere');
});

t.test('noper letters writes CSV and HTML, and the codes in the file are the ones that work', async (t) => {
  const env = await freshEnv(t);
  const { app, a, b, c } = await (async () => {
    const built = await build(t, { testEnv: env });
    const a = await insertAddress(built.app, { street: 'Rue de la Paix, Haut', number: '2', neighborhood: 'belval' });
    const b = await insertAddress(built.app, { street: 'Avenue de la Gare', number: '5', neighborhood: 'belval' });
    const c = await insertAddress(built.app, { street: 'Avenue de la Gare', number: '7', neighborhood: 'belval' });
    return { ...built, a, b, c };
  })();
  const dir = t.testdir({});
  const csvFile = path.join(dir, 'belval.csv');
  const ran = await noper(['letters', '--neighborhood', 'belval', '--out', csvFile], { env: env.env });
  t.equal(ran.code, 0, ran.stderr);
  t.equal(ran.stdout.trim(), `3 letters for belval written to ${csvFile}`);
  const rows = fs.readFileSync(csvFile, 'utf8').split('\r\n').filter(Boolean);
  t.equal(rows[0], 'address_id,street,number,postcode,locality,code');
  t.equal(rows.length, 4);
  t.match(rows.find((r) => r.startsWith(a.id)), `${a.id},"Rue de la Paix, Haut",2,4131,Esch-sur-Alzette,`);
  for (const row of rows.slice(1)) {
    const id = row.split(',')[0]!;
    const code = row.split(',').at(-1)!;
    t.ok([a.id, b.id, c.id].includes(id));
    t.equal(await redeemCode(app.db, id, code), true, `the code for ${id} works`);
  }

  const htmlFile = path.join(dir, 'belval.html');
  const again = await noper(['letters', '--neighborhood', 'belval', '--out', htmlFile, '--max-uses', '3', '--valid-days', '30'], { env: env.env });
  t.equal(again.code, 0, again.stderr);
  t.equal(again.stdout.trim(), `3 letters for belval written to ${htmlFile}`);
  const html = fs.readFileSync(htmlFile, 'utf8');
  t.equal(html.match(/<article class="letter">/g)?.length, 3);
  const codes = [...html.matchAll(/<p class="code">([A-Z0-9-]+)<\/p>/g)].map((m) => m[1]);
  t.equal(codes.length, 3);
  const fresh = await app.db.selectFrom('letter_codes').selectAll().where('revoked_at', 'is', null).execute();
  t.equal(fresh.length, 3, 'the earlier codes are revoked');
  t.ok(fresh.every((r) => r.max_uses === 3), '--max-uses');
  t.ok(fresh.every((r) => Math.abs(r.expires_at - (Date.now() + 30 * DAY)) < 120_000), '--valid-days');
  t.match(html, 'Noper');
});

t.test('noper letters: an unknown neighbourhood is a user error (exit 1, one line); missing or bad options are usage errors (exit 2)', async (t) => {
  const env = await freshEnv(t);
  const dir = t.testdir({});
  const unknown = await noper(['letters', '--neighborhood', 'atlantis', '--out', path.join(dir, 'x.csv')], { env: env.env });
  t.equal(unknown.code, 1);
  t.equal(lines(unknown.stderr).length, 1, unknown.stderr);
  t.match(unknown.stderr, 'atlantis');
  t.notMatch(unknown.stderr, STACK);
  t.notOk(fs.existsSync(path.join(dir, 'x.csv')), 'no file written');

  for (const args of [
    ['letters', '--out', path.join(dir, 'x.csv')],
    ['letters', '--neighborhood', 'belval'],
    ['letters', '--neighborhood', 'belval', '--out', path.join(dir, 'x.pdf')],
    ['letters', '--neighborhood', 'belval', '--out', path.join(dir, 'x.csv'), '--max-uses', '0'],
    ['letters', '--neighborhood', 'belval', '--out', path.join(dir, 'x.csv'), '--valid-days', 'soon'],
  ]) {
    const ran = await noper(args, { env: env.env });
    t.equal(ran.code, 2, `${args.slice(1).join(' ')}: exit 2`);
    t.notMatch(ran.stderr, STACK);
  }
  const help = await noper(['letters', '--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /^Usage: noper letters --neighborhood SLUG --out FILE\.html\|FILE\.csv/);
});

t.test('a double-submitted code spends one household use, not two', async (t) => {
  const { app } = await build(t);
  const nid = await ensureNeighborhood(app, 'belval');
  const address = await insertAddress(app, { street: 'Rue Double', number: '1', neighborhood: 'belval' });
  const [letter] = await issueCodes(app.db, { neighborhoodId: nid, maxUses: 2 });
  const user = await createUser(app, { memberships: [{ slug: 'belval', verified: false }] });
  await app.db.updateTable('users').set({ address_id: address.id }).where('id', '=', user.id).execute();
  const row = await app.db.selectFrom('users').selectAll().where('id', '=', user.id).executeTakeFirstOrThrow();
  const results = await Promise.all([verifyWithCode(app.db, app.bus, row, letter!.code), verifyWithCode(app.db, app.bus, row, letter!.code)]);
  t.ok(results.every((r) => r === 'verified' || r === 'already'), results.join(', '));
  const code = await app.db.selectFrom('letter_codes').select('uses').where('address_id', '=', address.id).where('revoked_at', 'is', null).executeTakeFirstOrThrow();
  t.equal(code.uses, 1, 'the partner can still use the code');
});
