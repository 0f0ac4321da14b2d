// Browser smoke test: a real Noper on a loopback port driven by Debian's Chromium (first run, language switch, login, logout, no JavaScript), with screenshots to look at.
import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { build, createUser } from '../helpers/app.ts';
import { BROWSER_ARGS, collectCspViolations, cspEvents, findChromium, watch } from '../helpers/browser.ts';
import { ROOT } from '../../server/paths.ts';

const LANGS = ['lb', 'fr', 'de', 'en'] as const;
type Lang = (typeof LANGS)[number];
const LANG_NAMES: Record<Lang, string> = { lb: 'Lëtzebuergesch', fr: 'Français', de: 'Deutsch', en: 'English' };
// The commune's default; the browser asks for a language Noper does not speak, so the default is what it gets.
const DEFAULT_LANG: Lang = 'lb';
const SHOTS = path.join(ROOT, 'tests', 'browser', 'screenshots');
const SIZES = [
  { name: '360', width: 360, height: 740 },
  { name: '1280', width: 1280, height: 800 },
];

// The texts the pages should show, read from the locale files so the test follows the translators.
function strings(lang: Lang) {
  const read = (ns: string) => JSON.parse(fs.readFileSync(path.join(ROOT, 'locales', lang, `${ns}.json`), 'utf8'));
  const common = read('common');
  const auth = read('auth');
  const admin = read('admin');
  return {
    features: admin.nav.plugins as string,
    firstRun: common.firstRun.title as string,
    home: common.home.title as string,
    login: auth.login.title as string,
    logout: auth.logout.button as string,
    submit: auth.login.submit as string,
    email: auth.login.email as string,
    password: auth.login.password as string,
  };
}


/** Clicks something that loads a new page and waits for that page's load event. */
async function follow(page: Page, target: Locator): Promise<void> {
  await Promise.all([page.waitForEvent('load'), target.click()]);
}

const htmlLang = (page: Page) => page.locator('html').getAttribute('lang');

async function screenshots(page: Page, name: string): Promise<void> {
  const original = page.viewportSize();
  for (const size of SIZES) {
    await page.setViewportSize({ width: size.width, height: size.height });
    await page.screenshot({ path: path.join(SHOTS, `${name}-${size.name}.png`), fullPage: true });
  }
  if (original) await page.setViewportSize(original);
}

const executablePath = findChromium();

if (!executablePath) {
  t.fail('Chromium not found: `command -v chromium` is empty and /usr/bin/chromium does not exist. Install it with `apt-get install -y chromium` (.ci/run does).');
} else {
  fs.mkdirSync(SHOTS, { recursive: true });

  const { app } = await build(t, { env: { DEFAULT_LANG } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

  // launch() gives Chromium a fresh temporary --user-data-dir of its own and removes it on close.
  const browser: Browser = await chromium.launch({
    executablePath,
    headless: true,
    args: BROWSER_ARGS,
  });
  // Teardowns run last-in first-out: the browser closes before the server (registered by build) stops.
  t.teardown(async () => {
    try {
      await browser.close();
    } catch {
      // already gone; the server must still be closed
    }
  });

  const newContext = async (options: { javaScriptEnabled?: boolean } = {}) => {
    const context = await browser.newContext({ baseURL: base, locale: 'ja-JP', viewport: { width: 1280, height: 800 }, ...options });
    await context.addInitScript(collectCspViolations);
    return context;
  };

  const context = await newContext();
  const problems = watch(context);
  const page = await context.newPage();

  t.test('the first-run page loads in the default language with htmx, without console errors or CSP violations', async (t) => {
    const res = await page.goto('/');
    t.equal(res?.status(), 200);
    t.equal(await htmlLang(page), DEFAULT_LANG);
    t.equal((await page.locator('h1').textContent())?.trim(), strings(DEFAULT_LANG).firstRun);
    const htmx = await page.evaluate(() => {
      const h = (window as unknown as { htmx?: { config: { allowEval: boolean } } }).htmx;
      return h ? { loaded: true, allowEval: h.config.allowEval } : { loaded: false, allowEval: undefined };
    });
    t.ok(htmx.loaded, 'window.htmx is defined');
    t.equal(htmx.allowEval, false, 'htmx.config.allowEval is false');
    await screenshots(page, 'first-run');
    t.same(await cspEvents(page), [], 'no securitypolicyviolation events');
    t.same(problems.csp.splice(0), [], 'no CSP messages on the console');
    t.same(problems.console.splice(0), [], 'no console errors');
  });

  t.test('the language links switch the page and the choice is remembered on the next visit', async (t) => {
    for (const lang of ['fr', 'de', 'lb', 'en'] as const) {
      await follow(page, page.getByRole('link', { name: LANG_NAMES[lang], exact: true }));
      t.equal(new URL(page.url()).search, `?lang=${lang}`);
      t.equal(await htmlLang(page), lang, `${LANG_NAMES[lang]}: <html lang>`);
      t.equal((await page.locator('h1').textContent())?.trim(), strings(lang).firstRun, `${LANG_NAMES[lang]}: visible text`);
      await page.goto('/');
      t.equal(await htmlLang(page), lang, `${LANG_NAMES[lang]}: remembered without ?lang`);
      t.equal((await page.locator('h1').textContent())?.trim(), strings(lang).firstRun);
      t.same(await cspEvents(page), [], `${LANG_NAMES[lang]}: no securitypolicyviolation events`);
    }
    t.same(problems.csp.splice(0), [], 'no CSP messages on the console');
    t.same(problems.console.splice(0), [], 'no console errors');
  });

  t.test('an admin logs in through the form, sees the admin home and logs out', async (t) => {
    const admin = await createUser(app, { role: 'admin', name: 'Anna Admin' });
    const en = strings('en');

    await page.goto('/');
    t.equal((await page.locator('h1').textContent())?.trim(), en.login, 'with an admin the home page is the login page');
    await screenshots(page, 'login');

    await page.getByLabel(en.email).fill(admin.email);
    await page.getByLabel(en.password).fill(admin.password);
    await follow(page, page.getByRole('button', { name: en.submit }));
    t.equal(page.url(), `${base}/`);
    t.equal((await page.locator('h1').textContent())?.trim(), en.home);
    t.ok(await page.locator('main').getByRole('link', { name: en.features }).isVisible(), 'the admin home links to the features page');
    t.ok(await page.getByText('Anna Admin').isVisible(), 'the header names the admin');
    t.equal(await htmlLang(page), 'en', 'the language chosen before logging in is kept');
    t.ok(await page.evaluate(() => typeof (window as unknown as { htmx?: unknown }).htmx === 'object'), 'htmx loaded on the signed-in page');
    await screenshots(page, 'home');

    // The signed-in language switch is a form POST (with its CSRF token), stored in the resident's settings.
    const de = strings('de');
    await follow(page, page.getByRole('button', { name: LANG_NAMES.de, exact: true }));
    t.equal(page.url(), `${base}/`);
    t.equal(await htmlLang(page), 'de', 'the signed-in switch changes <html lang>');
    t.equal((await page.locator('h1').textContent())?.trim(), de.home);
    await page.goto('/');
    t.equal(await htmlLang(page), 'de', 'and is remembered');
    await follow(page, page.getByRole('button', { name: LANG_NAMES.en, exact: true }));
    t.equal(page.url(), `${base}/`);
    t.equal(await htmlLang(page), 'en');

    await follow(page, page.getByRole('button', { name: en.logout }));
    t.equal(page.url(), `${base}/`);
    t.equal((await page.locator('h1').textContent())?.trim(), en.login, 'after logging out the login page shows again');
    t.equal(await page.getByRole('button', { name: en.logout }).count(), 0, 'no log-out button any more');
    t.notOk((await context.cookies()).some((c) => c.name === 'noper_session'), 'the session cookie is gone');

    t.same(await cspEvents(page), [], 'no securitypolicyviolation events');
    t.same(problems.csp.splice(0), [], 'no CSP messages on the console');
    t.same(problems.console.splice(0), [], 'no console errors');
  });

  t.test('without JavaScript the login form posts and redirects', async (t) => {
    const admin = await createUser(app, { role: 'admin', name: 'Nora NoScript' });
    const noJs = await newContext({ javaScriptEnabled: false });
    t.teardown(() => noJs.close());
    const noJsProblems = watch(noJs);
    const p = await noJs.newPage();
    const lb = strings(DEFAULT_LANG);

    const res = await p.goto('/login');
    t.equal(res?.status(), 200);
    t.equal(await htmlLang(p), DEFAULT_LANG);
    t.equal((await p.locator('h1').textContent())?.trim(), lb.login);
    await p.locator('#email').fill(admin.email);
    await p.locator('#password').fill(admin.password);
    const [post] = await Promise.all([
      p.waitForResponse((r) => r.url() === `${base}/login` && r.request().method() === 'POST'),
      p.waitForEvent('load'),
      p.getByRole('button', { name: lb.submit }).click(),
    ]);
    t.equal(post.status(), 303, 'the form POST answers with a redirect');
    t.equal(p.url(), `${base}/`);
    t.equal((await p.locator('h1').textContent())?.trim(), lb.home, 'the redirect lands on the signed-in home');
    t.ok(await p.getByText('Nora NoScript').isVisible());

    await follow(p, p.getByRole('button', { name: lb.logout }));
    t.equal(p.url(), `${base}/`);
    t.equal((await p.locator('h1').textContent())?.trim(), lb.login, 'logging out works without JavaScript too');
    t.same(noJsProblems.console, [], 'no console errors');
    t.same(noJsProblems.csp, [], 'no CSP messages on the console');
  });
}
