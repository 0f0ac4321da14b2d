// A resident's first visit in a real browser, with JavaScript on and off: find her real Esch address, register with the code from her letter, log in, read her neighbourhood's page, and find no other.
import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { chromium, type Browser } from 'playwright-core';
import { build } from '../helpers/app.ts';
import { BROWSER_ARGS, collectCspViolations, cspEvents, findChromium, watch } from '../helpers/browser.ts';
import { ROOT } from '../../server/paths.ts';
import { importAddresses } from '../../server/core/addresses/addresses.import.ts';
import { importNeighborhoods } from '../../server/core/neighborhoods/neighborhoods.import.ts';
import { issueCodes } from '../../server/core/verification/letter-codes.service.ts';

const DATA = path.join(ROOT, '..', 'shared', 'data');
const SHOTS = path.join(ROOT, 'tests', 'browser', 'screenshots');
const executablePath = findChromium();

if (!executablePath) {
  t.fail('Chromium not found: install it with `apt-get install -y chromium` (.ci/run does).');
} else {
  fs.mkdirSync(SHOTS, { recursive: true });
  const { app } = await build(t);
  await importNeighborhoods(app.db, fs.readFileSync(path.join(DATA, 'lux-quartiers', 'quartiers_esch-sur-alzette.geojson'), 'utf8'), 'NAME');
  await importAddresses(app.db, fs.readFileSync(path.join(DATA, 'caclr-addresses', 'caclr_addresses_esch-sur-alzette.csv'), 'utf8'));
  const brill = await app.db.selectFrom('neighborhoods').select(['id', 'name']).where('slug', '=', 'brill').executeTakeFirstOrThrow();
  // Two households with a house number and a postcode: one for the run with JavaScript, one without.
  const letters = (await issueCodes(app.db, { neighborhoodId: brill.id })).filter((l) => /^\d+$/.test(l.address.number) && l.address.postcode).slice(0, 2);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const browser: Browser = await chromium.launch({ executablePath, headless: true, args: BROWSER_ARGS });
  t.teardown(() => browser.close().catch(() => {}));

  for (const [i, js] of [true, false].entries()) {
    const letter = letters[i]!;
    const a = letter.address;
    t.test(`a resident registers at ${a.number} ${a.street} with her letter code and reads the Brill page (JavaScript ${js ? 'on' : 'off'})`, async (t) => {
      const context = await browser.newContext({ baseURL: base, javaScriptEnabled: js, viewport: { width: 360, height: 740 }, locale: 'fr-LU' });
      t.teardown(() => context.close());
      if (js) await context.addInitScript(collectCspViolations);
      const problems = watch(context);
      const page = await context.newPage();
      await page.goto('/register');
      t.equal(await page.locator('html').getAttribute('lang'), 'fr', 'French from the browser');
      // People type the street without accents and the postcode with its L-.
      const query = `${a.street.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase()} ${a.number} L-${a.postcode}`;
      await page.fill('#q', query);
      if (js) {
        await page.locator(`[data-address-id="${a.id}"]`).waitFor({ timeout: 10_000 });
      } else {
        await Promise.all([page.waitForEvent('load'), page.locator('.search-row button').click()]);
      }
      await page.locator(`input[data-address-id="${a.id}"]`).check();
      await page.fill('#name', js ? 'Anouk Théis' : 'Marc Weber');
      await page.fill('#email', js ? 'anouk@example.lu' : 'marc@example.lu');
      await page.fill('#password', 'eng laang Passwuert fir Noper');
      await page.fill('#code', letter.code.toLowerCase().replace(/-/g, ' '));
      await page.screenshot({ path: path.join(SHOTS, `register-${js ? 'js' : 'nojs'}-360.png`), fullPage: true });
      await Promise.all([page.waitForURL('**/login?done=registered'), page.locator('#register-form button[type=submit]').click()]);
      t.ok(await page.locator('.notice').isVisible(), 'the login page says what to do next');
      await page.fill('#email', js ? 'anouk@example.lu' : 'marc@example.lu');
      await page.fill('#password', 'eng laang Passwuert fir Noper');
      await Promise.all([page.waitForURL('**/n/brill'), page.locator('form[action="/login"] button[type=submit]').click()]);
      t.match(await page.locator('h1').textContent(), brill.name, 'her neighbourhood page');
      await page.screenshot({ path: path.join(SHOTS, `board-${js ? 'js' : 'nojs'}-360.png`), fullPage: true });
      t.same(problems.console, [], 'no console errors');
      t.same(problems.csp, [], 'no CSP messages');
      if (js) t.same(await cspEvents(page), [], 'no CSP violation events');
      const other = await page.goto('/n/al-esch');
      t.equal(other?.status(), 404, 'another neighbourhood does not exist for her');
    });
  }
}
