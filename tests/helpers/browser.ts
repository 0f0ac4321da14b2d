// Shared by the browser tests: finding Debian's Chromium, and watching pages for console errors and CSP violations.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';

export const BROWSER_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

/** Debian's Chromium: `command -v chromium`, else /usr/bin/chromium; undefined when neither exists. */
export function findChromium(): string | undefined {
  let found = '';
  try {
    found = execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
  } catch {
    // not on PATH
  }
  for (const candidate of [found, '/usr/bin/chromium']) if (candidate && fs.existsSync(candidate)) return candidate;
  return undefined;
}

/** Everything a page reports that a visitor should never cause: console errors, uncaught exceptions, CSP violations. */
export interface Problems {
  console: string[];
  csp: string[];
}

export function watch(context: BrowserContext): Problems {
  const problems: Problems = { console: [], csp: [] };
  context.on('console', (msg) => {
    const text = msg.text();
    if (/content security policy/i.test(text)) problems.csp.push(text);
    if (msg.type() === 'error') problems.console.push(`${msg.location().url}: ${text}`);
  });
  context.on('weberror', (err) => problems.console.push(`uncaught: ${err.error().message}`));
  return problems;
}

// Runs in every document before its own scripts (and is not subject to the page's CSP): collects violation events.
export function collectCspViolations() {
  const w = window as unknown as { __csp: string[] };
  w.__csp = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    w.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`);
  });
}

export async function cspEvents(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? []);
}
