// The command line as an operator meets it, each run in a process of its own on a fresh DATA_DIR (and database):
// help, exit codes (0 success, 1 user error on one line without a stack trace, 2 usage error), admin create, migrate, serve.
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { ROOT } from '../../server/paths.ts';
import { once } from 'node:events';
import t from 'tap';
import { sql } from 'kysely';
import { connect } from '../../server/db/dialect.ts';
import { migrationTable } from '../../server/db/migrator.ts';
import { verifyPassword } from '../../server/core/auth/passwords.ts';
import { coreMigrations } from '../../migrations/index.ts';
import { Client, build, freshEnv, type TestEnv } from '../helpers/app.ts';
import { childEnv, finished, freePort, lines, noper, poll, start, type Ran } from '../helpers/cli.ts';

type T = Parameters<Parameters<typeof t.test>[0]>[0];

// Each test spawns its own process on its own data directory and port: several at once keep the file well inside tap's timeout.
t.jobs = 4;

const STACK = /^\s+at /m;
const PASSWORD = 'a long enough password';

/** A user error: exit 1, exactly one line on stderr, no stack trace. */
function userError(t: T, ran: Ran, mentions: RegExp) {
  t.equal(ran.code, 1, 'exit code 1');
  t.equal(lines(ran.stderr).length, 1, `one line on stderr: ${ran.stderr}`);
  t.match(ran.stderr, mentions);
  t.notMatch(ran.stderr, STACK, 'no stack trace');
}

/** Reads the users table of the environment's database. */
async function users(t: T, env: TestEnv) {
  const handle = connect({ databaseUrl: env.databaseUrl, dataDir: env.dataDir });
  t.teardown(() => handle.close());
  return handle.db.selectFrom('users').selectAll().execute();
}

/** Starts `noper serve` on a free port; the process is killed in teardown if the test did not stop it. */
async function serve(t: T) {
  const env = await freshEnv(t);
  const port = await freePort();
  const child = start('bin/noper.ts', ['serve'], { ...env.env, PORT: String(port), HOST: '127.0.0.1' });
  const output = finished(child);
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    return output;
  });
  const base = `http://127.0.0.1:${port}`;
  const up = await poll(async () => {
    if (child.exitCode !== null) return true;
    return fetch(`${base}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
  }, 60_000, 200);
  if (!up || child.exitCode !== null) throw new Error(`noper serve did not come up: ${(await Promise.race([output, Promise.resolve(undefined)]))?.stderr ?? ''}`);
  return { child, output, port, base, env };
}

/** The child's exit once it exited, or undefined after `ms`. */
async function exitWithin(output: Promise<Ran>, ms: number): Promise<Ran | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  const ran = await Promise.race([output, timeout]);
  clearTimeout(timer);
  return ran;
}

// --- help and usage --------------------------------------------------------------------------------------------

t.test('noper --help exits 0 and lists exactly the commands that exist: serve, migrate, plugins, import, neighborhoods, admin, letters', async (t) => {
  const ran = await noper(['--help']);
  t.equal(ran.code, 0);
  const section = ran.stdout.split(/^Commands:$/m)[1]?.split(/\n\s*\n/)[0] ?? '';
  const commands = new Set(lines(section).map((l) => /^ {2}(\S+)/.exec(l)?.[1]).filter(Boolean));
  t.same([...commands].sort(), ['admin', 'import', 'letters', 'migrate', 'neighborhoods', 'plugins', 'serve']);
  for (const later of ['backup', 'restore', 'demo']) t.notMatch(ran.stdout, new RegExp(`\\b${later}\\b`), `does not mention ${later} (not built yet)`);
});

for (const command of ['serve', 'migrate', 'plugins', 'import', 'neighborhoods', 'admin', 'letters']) {
  t.test(`noper ${command} --help exits 0 and prints the command's usage`, async (t) => {
    const ran = await noper([command, '--help']);
    t.equal(ran.code, 0);
    t.match(ran.stdout, new RegExp(`^Usage: noper ${command}\\b`));
    t.equal(ran.stderr, '');
  });
}

t.test('noper serve --help lists every environment variable of the contract', async (t) => {
  const ran = await noper(['serve', '--help']);
  for (const name of ['PORT', 'HOST', 'DATA_DIR', 'DATABASE_URL', 'BASE_URL', 'SMTP_URL', 'LOG_LEVEL', 'TZ_COMMUNE', 'DEFAULT_LANG']) {
    t.match(ran.stdout, new RegExp(`^\\s+${name}\\s`, 'm'), name);
  }
});

t.test('an unknown command exits 2 and names it', async (t) => {
  const ran = await noper(['frobnicate']);
  t.equal(ran.code, 2);
  t.match(ran.stderr, 'unknown command "frobnicate"');
  t.notMatch(ran.stderr, STACK);
});

t.test('noper without a command prints the usage and exits 2', async (t) => {
  const ran = await noper([]);
  t.equal(ran.code, 2);
  t.match(ran.stdout, 'Usage: noper <command>');
});

t.test('admin create without --email is a usage error: exit 2', async (t) => {
  const env = await freshEnv(t);
  const ran = await noper(['admin', 'create'], { env: env.env, input: `${PASSWORD}\n` });
  t.equal(ran.code, 2);
  t.match(ran.stderr, '--email');
  t.notMatch(ran.stderr, STACK);
});

// --- configuration errors --------------------------------------------------------------------------------------

t.test('PORT=abc noper serve exits 1 with one line naming PORT and no stack trace', async (t) => {
  const env = await freshEnv(t);
  const ran = await noper(['serve'], { env: { ...env.env, PORT: 'abc' } });
  userError(t, ran, /PORT/);
});

t.test('through a link without .js, as npx and npm install it, the command line still runs and exits 1 on PORT=abc', async (t) => {
  const env = await freshEnv(t);
  const dir = t.testdir({});
  const link = path.join(dir, 'noper');
  fs.symlinkSync(path.join(ROOT, 'bin', 'noper.js'), link);
  const ran = await finished(spawn(process.execPath, [link, 'serve'], { cwd: dir, env: childEnv({ ...env.env, PORT: 'abc' }), stdio: ['ignore', 'pipe', 'pipe'] }));
  userError(t, ran, /PORT/);
});

// --- admin create ----------------------------------------------------------------------------------------------

t.test('admin create with the password on stdin exits 0 and the administrator can log in', async (t) => {
  const env = await freshEnv(t);
  const ran = await noper(['admin', 'create', '--email', 'a@b.lu', '--name', 'A'], { env: env.env, input: `${PASSWORD}\n` });
  t.equal(ran.code, 0, ran.stderr);
  t.match(ran.stdout, 'a@b.lu');

  const [user, ...others] = await users(t, env);
  t.equal(others.length, 0);
  t.match(user, { email: 'a@b.lu', name: 'A', role: 'admin' });
  t.ok(await verifyPassword(user!.password_hash, PASSWORD), 'the stored hash verifies the password without its newline');

  const { app } = await build(t, { testEnv: env });
  const client = new Client(app);
  const res = await client.login('a@b.lu', PASSWORD);
  t.equal(res.statusCode, 303, 'logged in through the real form');
  t.equal((await client.get('/admin/plugins')).statusCode, 200, 'as an administrator');
});

t.test('admin create with a short password exits 1 with one line and creates nobody', async (t) => {
  const env = await freshEnv(t);
  const ran = await noper(['admin', 'create', '--email', 'a@b.lu', '--name', 'A'], { env: env.env, input: 'short\n' });
  userError(t, ran, /at least 8 characters/);
  t.same(await users(t, env), []);
});

t.test('admin create with a common password exits 1 with one line and creates nobody', async (t) => {
  const env = await freshEnv(t);
  const ran = await noper(['admin', 'create', '--email', 'a@b.lu', '--name', 'A'], { env: env.env, input: 'Password123\n' });
  userError(t, ran, /one of the most common/);
  t.same(await users(t, env), []);
});

t.test('admin create with an e-mail address already taken exits 1 with one line', async (t) => {
  const env = await freshEnv(t);
  const first = await noper(['admin', 'create', '--email', 'a@b.lu'], { env: env.env, input: `${PASSWORD}\n` });
  t.equal(first.code, 0, first.stderr);
  const again = await noper(['admin', 'create', '--email', 'A@B.lu', '--name', 'Other'], { env: env.env, input: `${PASSWORD}\n` });
  userError(t, again, /exists already/);
  t.equal((await users(t, env)).length, 1);
});

// --- migrate ---------------------------------------------------------------------------------------------------

t.test('noper migrate exits 0 and applies every core migration', async (t) => {
  const env = await freshEnv(t);
  const ran = await noper(['migrate'], { env: env.env });
  t.equal(ran.code, 0, ran.stderr);
  t.match(ran.stdout, 'Migrations applied');
  const handle = connect({ databaseUrl: env.databaseUrl, dataDir: env.dataDir });
  t.teardown(() => handle.close());
  const done = await sql<{ name: string }>`select name from ${sql.table(migrationTable(undefined))} order by name`.execute(handle.db);
  t.same(
    done.rows.map((r) => r.name),
    Object.keys(coreMigrations).sort(),
  );
  const again = await noper(['migrate'], { env: env.env });
  t.equal(again.code, 0, 'and again, with nothing left to do');
});

// --- serve -----------------------------------------------------------------------------------------------------

t.test('noper serve answers /healthz and exits 0 within seconds of SIGTERM', async (t) => {
  const { child, output, base } = await serve(t);
  const res = await fetch(`${base}/healthz`);
  t.equal(res.status, 200);
  t.same(await res.json(), { status: 'ok' });

  child.kill('SIGTERM');
  const ran = await exitWithin(output, 10_000);
  t.ok(ran, 'exited');
  t.equal(ran?.code, 0, `exit code 0 ${ran?.stderr ?? ''}`);
  t.equal(ran?.signal, null, 'by itself, not killed by the signal');
});

t.test('a request in flight when SIGTERM arrives still gets its answer before noper serve exits', async (t) => {
  const { child, output, port, base } = await serve(t);
  // A login form as a browser has it (cookie, CSRF token, Origin), so that answering it needs the database.
  const page = await fetch(`${base}/login`);
  const cookie = page.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
  t.ok(csrf, 'the login page carries a CSRF token');
  const body = new URLSearchParams({ _csrf: csrf, email: 'nobody@example.lu', password: 'not the password' }).toString();
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let response = '';
  socket.setEncoding('utf8').on('data', (d: string) => (response += d));
  socket.on('error', () => {});
  // The headers only, asking to continue: the server's `100 Continue` proves it has the request in hand.
  socket.write(
    `POST /login HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\nCookie: ${cookie}\r\nOrigin: ${base}\r\nExpect: 100-continue\r\n\r\n`,
  );
  t.ok(await poll(() => response.startsWith('HTTP/1.1 100 Continue'), 10_000), 'the server started on the request');

  child.kill('SIGTERM');
  const closing = await poll(
    () =>
      fetch(`${base}/healthz`).then(
        () => false,
        () => true,
      ),
    10_000,
  );
  t.ok(closing, 'the server stopped taking new connections');

  socket.write(body);
  const final = () => /HTTP\/1\.1 (?!100 )(\d{3}) [^\r]*\r\n(?:[^\r]+\r\n)*\r\n/.exec(response);
  t.ok(await poll(() => !!final(), 10_000), 'the request got its answer');
  t.equal(Number(final()?.[1]), 401, 'the wrong password was checked against the database, still open, and refused');
  socket.end();

  const ran = await exitWithin(output, 10_000);
  t.equal(ran?.code, 0, 'then the server exited 0');
});

t.test('noper serve on a port already in use exits 1 with one line', async (t) => {
  const env = await freshEnv(t);
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => blocker.close(resolve)));
  const port = (blocker.address() as net.AddressInfo).port;

  const child = start('bin/noper.ts', ['serve'], { ...env.env, PORT: String(port), HOST: '127.0.0.1' });
  const output = finished(child);
  child.stdin!.end();
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    return output;
  });
  const ran = await exitWithin(output, 30_000);
  t.ok(ran, 'the process ended by itself (nothing holds it open)');
  if (ran) userError(t, ran, new RegExp(`EADDRINUSE|${port}`));
});
