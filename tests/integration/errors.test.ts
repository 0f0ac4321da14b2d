// The central error handler: localized error pages, {"error":{code,message}} for JSON clients, no stack traces, 5xx logged with the request id; /healthz and /metrics.
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import Handlebars from 'handlebars';
import t from 'tap';
import { LANGUAGES } from '../../server/config.ts';
import { LOCALES_DIR } from '../../server/paths.ts';
import { defineFeature } from '../../server/plugin-api.ts';
import { build, clientAs } from '../helpers/app.ts';

const SECRET = 'kaboom: connection string postgres://noper:hunter2@db';

/** The request ids of the failing route, as the server saw them. */
const failedIds: string[] = [];

/** A test-only plugin with a route that fails the way a bug would: a plain Error. */
const boom = defineFeature({
  manifest: { id: 'test-boom', version: '1.0.0', coreApi: '^1.0.0', defaultEnabled: true },
  routes(app) {
    app.get('/', { config: { access: 'public' } }, async (req) => {
      failedIds.push(req.id);
      throw new Error(SECRET);
    });
  },
});

const errorsText = (lang: string) => JSON.parse(fs.readFileSync(path.join(LOCALES_DIR, lang, 'errors.json'), 'utf8')) as {
  notFound: string;
  internal: string;
  title: Record<string, string>;
};
/** How the page shows a text: handlebars escapes ' = and friends. */
const html = (s: string) => Handlebars.escapeExpression(s);

const ACCEPT_LANGUAGE: Record<string, string> = { lb: 'lb-LU,lb;q=0.9', fr: 'fr-LU,fr;q=0.9,en;q=0.5', de: 'de-LU,de;q=0.9', en: 'en-GB,en;q=0.9' };

for (const lang of LANGUAGES) {
  t.test(`a 404 page asked for with ?lang=${lang} is in that language`, async (t) => {
    const { app } = await build(t);
    const res = await app.inject({ url: `/no-such-page?lang=${lang}` });
    t.equal(res.statusCode, 404);
    t.match(String(res.headers['content-type']), /^text\/html/);
    t.match(res.body, `<html lang="${lang}">`);
    t.match(res.body, `<h1>${html(errorsText(lang).title['404']!)}</h1>`);
    t.match(res.body, html(errorsText(lang).notFound));
  });

  t.test(`a 404 page for a browser whose Accept-Language prefers ${lang} is in that language`, async (t) => {
    const { app } = await build(t);
    const res = await app.inject({ url: '/no-such-page', headers: { 'accept-language': ACCEPT_LANGUAGE[lang]! } });
    t.equal(res.statusCode, 404);
    t.match(res.body, `<html lang="${lang}">`);
    t.match(res.body, `<h1>${html(errorsText(lang).title['404']!)}</h1>`);
    t.match(res.body, html(errorsText(lang).notFound));
  });
}

t.test('a JSON client gets {"error":{"code":"NOT_FOUND","message"}} for an unknown route', async (t) => {
  const { app } = await build(t);
  const res = await app.inject({ url: '/no-such-page', headers: { accept: 'application/json' } });
  t.equal(res.statusCode, 404);
  t.match(String(res.headers['content-type']), /^application\/json/);
  t.same(res.json(), { error: { code: 'NOT_FOUND', message: errorsText('en').notFound } });
});

t.test("a JSON client's error message is in the negotiated language", async (t) => {
  const { app } = await build(t);
  const res = await app.inject({ url: '/no-such-page?lang=fr', headers: { accept: 'application/json' } });
  t.equal(res.statusCode, 404);
  t.same(res.json(), { error: { code: 'NOT_FOUND', message: errorsText('fr').notFound } });
});

t.test('the login button of a 401 page leads back to the full address, query included', async (t) => {
  const { app } = await build(t);
  const res = await app.inject({ url: '/admin/plugins?tab=a&x=1' });
  t.equal(res.statusCode, 401);
  const href = /<a class="button" href="([^"]+)"/.exec(res.body)?.[1];
  t.ok(href, 'the page offers to log in');
  // What the browser does with the attribute: decode the entities, then follow the URL.
  const decoded = href!.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&');
  const login = new URL(decoded, 'http://localhost');
  t.equal(login.pathname, '/login');
  t.equal(login.searchParams.get('next'), '/admin/plugins?tab=a&x=1');
});

t.test('a route that throws a plain Error gives a 500 page with the request id and no error message or stack trace', async (t) => {
  const { app } = await build(t, { features: [boom] });
  const res = await app.inject({ url: '/test-boom/' });
  t.equal(res.statusCode, 500);
  t.match(String(res.headers['content-type']), /^text\/html/);
  t.match(res.body, html(errorsText('en').internal));
  const id = failedIds.at(-1)!;
  t.ok(id, 'the route ran');
  t.match(res.body, `<code>${id}</code>`, 'the request id is shown, for the resident to quote');
  t.notMatch(res.body, 'kaboom');
  t.notMatch(res.body, 'hunter2');
  t.notMatch(res.body, /\bat .+\.(ts|js):\d+/, 'no stack frames');
  t.notMatch(res.body, /Error:/);
});

t.test('a JSON client of a failing route gets {"error":{"code":"INTERNAL"}} without the error message', async (t) => {
  const { app } = await build(t, { features: [boom] });
  const res = await app.inject({ url: '/test-boom/', headers: { accept: 'application/json' } });
  t.equal(res.statusCode, 500);
  t.same(res.json(), { error: { code: 'INTERNAL', message: errorsText('en').internal } });
});

t.test('a 500 is logged with the request id and the error', async (t) => {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      cb();
    },
  });
  const { app } = await build(t, { features: [boom], logger: { level: 'error', stream } });
  const res = await app.inject({ url: '/test-boom/' });
  t.equal(res.statusCode, 500);
  const id = failedIds.at(-1)!;
  const entry = lines.find((l) => l.reqId === id && (l.err as { message?: string } | undefined)?.message === SECRET);
  t.ok(entry, 'an error line carries the request id and the error message');
  t.match((entry?.err as { stack?: string } | undefined)?.stack ?? '', /errors\.test\.ts/, 'with its stack, for the operator');
});

t.test('GET /healthz answers 200 {"status":"ok"} while the database answers', async (t) => {
  const { app } = await build(t);
  const res = await app.inject({ url: '/healthz' });
  t.equal(res.statusCode, 200);
  t.match(String(res.headers['content-type']), /^application\/json/);
  t.same(res.json(), { status: 'ok' });
  t.equal(res.headers['cache-control'], 'no-store');
});

t.test('GET /metrics answers Prometheus text to an admin connecting from elsewhere', async (t) => {
  const { app } = await build(t);
  const { client } = await clientAs(app, { role: 'admin' });
  const res = await client.request({ method: 'GET', url: '/metrics', remoteAddress: '203.0.113.9' });
  t.equal(res.statusCode, 200);
  t.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  t.match(res.body, /^# TYPE noper_http_request_duration_seconds histogram$/m);
  t.match(res.body, /^noper_http_request_duration_seconds_bucket\{[^}]*route="\/login"/m, 'durations by route');
  t.match(res.body, /^nodejs_eventloop_lag_seconds /m);
  t.match(res.body, /^# TYPE noper_db_query_duration_seconds histogram$/m);
});

t.test('GET /metrics refuses an anonymous remote client', async (t) => {
  const { app } = await build(t);
  const res = await app.inject({ url: '/metrics', remoteAddress: '203.0.113.9', headers: { accept: 'application/json' } });
  t.equal(res.statusCode, 401);
  t.equal(res.json().error.code, 'UNAUTHENTICATED');
  t.notMatch(res.body, 'nodejs_eventloop_lag');
});

t.test('GET /metrics refuses a signed-in resident who is not an admin', async (t) => {
  const { app } = await build(t);
  const { client } = await clientAs(app);
  const res = await client.request({ method: 'GET', url: '/metrics', remoteAddress: '203.0.113.9' });
  t.equal(res.statusCode, 403);
  t.notMatch(res.body, 'nodejs_eventloop_lag');
});

t.test('GET /metrics answers a monitoring agent on the same machine', async (t) => {
  const { app } = await build(t);
  const res = await app.inject({ url: '/metrics', remoteAddress: '127.0.0.1' });
  t.equal(res.statusCode, 200);
  t.match(res.body, 'nodejs_eventloop_lag');
});

t.test('GET /metrics refuses a request forwarded by a proxy on the same machine', async (t) => {
  const { app } = await build(t);
  const res = await app.inject({ url: '/metrics', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.9' } });
  t.equal(res.statusCode, 401);
  t.notMatch(res.body, 'nodejs_eventloop_lag');
});
