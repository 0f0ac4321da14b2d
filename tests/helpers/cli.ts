// Runs the command line (or a fixture script) in a process of its own, from the TypeScript source through tsx, never from dist/.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { ROOT } from '../../server/paths.ts';

export interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment of a spawned process: only what it needs plus the test's own variables, so that the
 * suite's DATABASE_URL or tap's NODE_OPTIONS never leak into it.
 */
export function childEnv(env: Record<string, string | undefined> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ']) if (process.env[k] !== undefined) out[k] = process.env[k]!;
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

/**
 * Starts `node --import tsx <script> ...args` in the project root. Node itself is the child (not npx or the
 * tsx wrapper), so a signal sent to the child's pid reaches the program.
 */
export function start(script: string, args: string[], env: Record<string, string | undefined> = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, script), ...args], {
    cwd: ROOT,
    env: childEnv(env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Collects a child's output until it exits. */
export function finished(child: ChildProcess): Promise<Ran> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Runs a script to completion, with `input` on its standard input (closed right after). */
export async function runScript(script: string, args: string[], opts: { env?: Record<string, string | undefined>; input?: string } = {}): Promise<Ran> {
  const child = start(script, args, opts.env);
  const done = finished(child);
  child.stdin!.end(opts.input ?? '');
  return done;
}

/** `noper ARGS` from bin/noper.ts. */
export function noper(args: string[], opts: { env?: Record<string, string | undefined>; input?: string } = {}): Promise<Ran> {
  return runScript('bin/noper.ts', args, opts);
}

/** The non-empty lines of a text. */
export function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Calls `check` every `intervalMs` until it returns true or `timeoutMs` passed; returns whether it did. */
export async function poll(check: () => Promise<boolean> | boolean, timeoutMs = 10_000, intervalMs = 100): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
