// The command line: serve, migrate, plugins, admin. Exit 0 on success, 1 on a user error (one line, no stack), 2 on a usage error.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { createInterface } from 'node:readline';
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { ConfigError, ENV_VARS, loadConfig, type Config } from '../server/config.ts';
import { OperatorError } from '../server/errors.ts';
import type { DbHandle } from '../server/db/dialect.ts';
// The server's modules are loaded only by the commands that need them, so `--help` and usage errors answer at once.

class UsageError extends Error {}

const MAIN_HELP = `Noper — a closed, self-hosted neighbourhood network for a commune.

Usage: noper <command> [options]

Commands:
  serve                          start the server (migrates first); same as npm start
  migrate                        apply pending migrations (core and plugins) and exit
  plugins list                   list feature plugins and whether they are on
  plugins enable ID              switch a feature plugin on (running servers follow within seconds)
  plugins disable ID             switch a feature plugin off (its data is kept)
  import addresses FILE.csv      import or update the address register (national export or generic CSV)
  import neighborhoods FILE.geojson [--name-property P]
                                 import or update neighbourhood polygons; addresses are re-assigned
  neighborhoods list             slug, name, addresses and verified members, tab-separated
  admin create --email E [--name N]
                                 create a commune administrator; the password is read from stdin or prompted
  letters --neighborhood SLUG --out FILE.html|FILE.csv
                                 printable verification letters, one fresh code per address (CSV for a mail merge)

Run 'noper <command> --help' for a command's options. Configuration comes from environment variables;
'noper serve --help' lists them.`;

const envHelp = () =>
  Object.entries(ENV_VARS)
    .map(([k, v]) => `  ${k.padEnd(24)} ${v.describe}${v.default !== undefined ? ` (default ${v.default})` : ''}`)
    .join('\n');

const HELP: Record<string, () => string> = {
  serve: () => `Usage: noper serve\n\nStarts Noper on HOST:PORT, applying pending migrations first.\n\nEnvironment:\n${envHelp()}`,
  migrate: () => `Usage: noper migrate\n\nApplies every pending migration of the core and of each installed feature plugin, then exits.\nSafe to run while servers are running and from several machines at once (PostgreSQL).`,
  plugins: () => `Usage: noper plugins list\n       noper plugins enable ID [--neighborhood SLUG]\n       noper plugins disable ID [--neighborhood SLUG]\n\nSwitches take effect in running servers on the same database within seconds, without a restart.\nWith --neighborhood the switch applies to that neighbourhood only (it cannot switch on what the commune switched off).`,
  import: () =>
    `Usage: noper import addresses FILE.csv\n       noper import neighborhoods FILE.geojson [--name-property P]\n\n` +
    `addresses: Luxembourg's national register export (id_caclr_bat,numero,rue,code_postal,localite,...,approx_lon,approx_lat)\n` +
    `or a generic CSV with the header street,number,postcode,locality,lat,lon (WGS84; lat/lon may be empty). The format is\n` +
    `detected from the header. Importing a newer export updates changed addresses and retires vanished ones (their residents\n` +
    `are flagged for review). Unreadable lines are listed with their numbers and nothing is imported.\n\n` +
    `neighborhoods: a GeoJSON FeatureCollection of Polygons/MultiPolygons; the name comes from --name-property (default: a\n` +
    `property called name, NAME, nom or quartier). Existing neighbourhoods of the same name are updated. Every address is then\n` +
    `assigned by its point, else by rules; addresses in no neighbourhood or in two go to the admins' review list.`,
  neighborhoods: () => `Usage: noper neighborhoods list\n\nPrints one line per neighbourhood: slug, name, addresses, verified members (tab-separated).`,
  admin: () => `Usage: noper admin create --email E [--name N]\n\nCreates a commune administrator. The password (8 to 128 characters, not a common one) is read from standard input,\nor prompted for when standard input is a terminal.`,
  letters: () =>
    `Usage: noper letters --neighborhood SLUG --out FILE.html|FILE.csv [--max-uses N] [--valid-days N]\n\nIssues a fresh verification code for every current address of the neighbourhood and writes the letters:\nFILE.html is print-ready (A4, one page per address, in lb, fr, de and en); FILE.csv is for a printing service's\nmail merge (address_id,street,number,postcode,locality,code). Codes of earlier letters for these addresses stop working.\n\nOptions:\n  --max-uses N     adults of one household who may use a code (default 2)\n  --valid-days N   days until the codes expire (default 90)`,
};

function parse(args: string[], options: ParseArgsConfig['options'] = {}): { positionals: string[]; values: Record<string, unknown> } {
  try {
    return parseArgs({ args, options: { help: { type: 'boolean', short: 'h' }, ...options }, allowPositionals: true, strict: true }) as never;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

async function withDb<T>(config: Config, fn: (h: DbHandle) => Promise<T>): Promise<T> {
  const { connect } = await import('../server/db/dialect.ts');
  const { migrateAll } = await import('../server/app.ts');
  const handle = connect({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 2 });
  try {
    await migrateAll(handle.db);
    return await fn(handle);
  } catch (err) {
    throw databaseProblem(err) ?? err;
  } finally {
    await handle.close();
  }
}

async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    let data = '';
    for await (const chunk of process.stdin) data += chunk;
    return data.replace(/\r?\n$/, '');
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const ask = (q: string) =>
    new Promise<string>((resolve) => {
      const out = rl as unknown as { _writeToOutput: (s: string) => void; output: NodeJS.WriteStream };
      let muted = false;
      out._writeToOutput = (s: string) => {
        if (!muted) out.output.write(s);
      };
      rl.question(q, (a) => {
        out.output.write('\n');
        resolve(a);
      });
      muted = true;
    });
  try {
    const first = await ask('Password: ');
    const second = await ask('Repeat password: ');
    if (first !== second) throw new OperatorError('The two passwords differ; nothing was created.');
    return first;
  } finally {
    rl.close();
  }
}

function printAssignment(a: import('../server/core/neighborhoods/assignment.ts').AssignmentSummary): void {
  const assigned = a.perNeighborhood.reduce((s, n) => s + n.addresses, 0);
  console.log(`Addresses in the register: ${a.total}; assigned: ${assigned}; unassigned: ${a.unassigned}; ambiguous (in two or more): ${a.ambiguous}.`);
  for (const n of a.perNeighborhood) console.log(`  ${n.slug}\t${n.name}\t${n.addresses}`);
  if (a.unassigned || a.ambiguous) console.log('Unassigned and ambiguous addresses wait in the administrators\' review list.');
}

/** Connection failures (by their codes, not their wording) as one clear line; anything else is left as it is. */
export function databaseProblem(err: unknown): OperatorError | undefined {
  const code = (err as { code?: string })?.code;
  const reasons: Record<string, string> = {
    ECONNREFUSED: 'nothing answers at that address',
    ENOTFOUND: 'the host name is unknown',
    ETIMEDOUT: 'the server does not answer',
    '28P01': 'the password is wrong',
    '28000': 'the user may not connect',
    '3D000': 'the database does not exist',
    SQLITE_CANTOPEN: 'the SQLite file cannot be opened (check DATA_DIR and its permissions)',
    SQLITE_READONLY: 'the SQLite file is read-only',
    SQLITE_FULL: 'the disk is full',
  };
  if (!code || !reasons[code]) return undefined;
  return new OperatorError(`Cannot use the database: ${reasons[code]}`, { help: code.startsWith('SQLITE') ? 'check DATA_DIR' : 'check DATABASE_URL and that PostgreSQL is running' });
}

const ACCOUNT_MESSAGES: Record<string, string> = {
  emailRequired: '--email is required',
  emailInvalid: 'that e-mail address does not look right',
  emailTaken: 'an account with that e-mail address exists already',
  nameRequired: 'the name is empty',
  nameTooLong: 'the name may have at most 80 characters',
  nameInvalid: 'the name may not contain line breaks or invisible characters',
  passwordTooShort: 'the password needs at least 8 characters',
  passwordTooLong: 'the password may have at most 128 characters',
  passwordCommon: 'the password is one of the most common ones and easy to guess; choose another',
};

export async function run(argv: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(MAIN_HELP);
    return command ? 0 : 2;
  }
  if (command === '--version') {
    console.log('noper 0.1.0');
    return 0;
  }
  if (!HELP[command]) throw new UsageError(`unknown command "${command}"`);
  const wantsHelp = rest.includes('--help') || rest.includes('-h');
  if (wantsHelp) {
    console.log(HELP[command]!());
    return 0;
  }
  switch (command) {
    case 'serve': {
      const { positionals } = parse(rest);
      if (positionals.length) throw new UsageError(`serve takes no arguments (got "${positionals[0]}")`);
      const config = loadConfig(env);
      const { serve } = await import('../server/main.ts');
      try {
        await serve(config);
      } catch (err) {
        const code = (err as { code?: string }).code;
        const db = databaseProblem(err);
        if (db) throw db;
        if (code === 'EADDRINUSE') throw new OperatorError(`Port ${config.port} on ${config.host} is already in use.`, { help: 'stop the other program or set PORT to a free port' });
        if (code === 'EACCES' && (err as { syscall?: string }).syscall === 'listen') throw new OperatorError(`Not allowed to listen on ${config.host}:${config.port}.`, { help: 'use a port above 1023 or run behind a reverse proxy' });
        if (code === 'EADDRNOTAVAIL') throw new OperatorError(`HOST=${config.host} is not an address of this machine.`, { help: 'use 127.0.0.1, 0.0.0.0 or one of its addresses' });
        throw err;
      }
      return -1; // keeps running
    }
    case 'migrate': {
      const { positionals } = parse(rest);
      if (positionals.length) throw new UsageError(`migrate takes no arguments (got "${positionals[0]}")`);
      const config = loadConfig(env);
      await withDb(config, async () => undefined);
      console.log(`Migrations applied (${config.databaseUrl ? 'PostgreSQL' : `SQLite in ${config.dataDir}`}).`);
      return 0;
    }
    case 'plugins': {
      const { positionals, values } = parse(rest, { neighborhood: { type: 'string' } });
      const [sub, id, extra] = positionals;
      if (!sub || !['list', 'enable', 'disable'].includes(sub)) throw new UsageError('say list, enable ID or disable ID');
      if (sub !== 'list' && !id) throw new UsageError(`plugins ${sub} needs a plugin id`);
      if (extra || (sub === 'list' && id)) throw new UsageError('too many arguments');
      const config = loadConfig(env);
      const { FeatureState, COMMUNE } = await import('../server/features/state.ts');
      const { installedFeatures } = await import('../plugins/index.ts');
      return withDb(config, async (handle) => {
        const state = new FeatureState(handle, installedFeatures);
        await state.refresh();
        if (sub === 'list') {
          if (!state.defs.size) console.log('No feature plugins are installed.');
          for (const d of state.defs.values()) console.log(`${d.manifest.id}\t${d.manifest.version}\t${state.communeEnabled(d.manifest.id) ? 'on' : 'off'}`);
          return 0;
        }
        if (!state.defs.has(id!)) {
          throw new OperatorError(`No feature plugin "${id}" is installed.`, { help: `installed: ${[...state.defs.keys()].join(', ') || 'none'}` });
        }
        let scope = COMMUNE;
        if (typeof values.neighborhood === 'string') {
          const n = await handle.db.selectFrom('neighborhoods').select('id').where('slug', '=', values.neighborhood).executeTakeFirst();
          if (!n) throw new OperatorError(`No neighbourhood "${values.neighborhood}".`, { help: 'see noper neighborhoods list' });
          scope = n.id;
        }
        await state.set(id!, sub === 'enable', { scope });
        console.log(`${id} is now ${sub === 'enable' ? 'on' : 'off'}${scope === COMMUNE ? '' : ` in ${values.neighborhood}`}.`);
        return 0;
      });
    }
    case 'import': {
      const { positionals, values } = parse(rest, { 'name-property': { type: 'string' } });
      const [what, file, extra] = positionals;
      if (what !== 'addresses' && what !== 'neighborhoods') throw new UsageError('say: import addresses FILE.csv or import neighborhoods FILE.geojson');
      if (!file) throw new UsageError(`import ${what} needs a file`);
      if (extra) throw new UsageError('too many arguments');
      if (what === 'addresses' && values['name-property'] !== undefined) throw new UsageError('--name-property goes with import neighborhoods');
      const config = loadConfig(env);
      const { readFile } = await import('node:fs/promises');
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        throw new OperatorError(`Cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
      }
      return withDb(config, async (handle) => {
        if (what === 'addresses') {
          const { importAddresses } = await import('../server/core/addresses/addresses.import.ts');
          const r = await importAddresses(handle.db, text);
          console.log(`Addresses read: ${r.read} (${r.format === 'caclr' ? 'national register' : 'generic CSV'}): ${r.inserted} new, ${r.updated} changed, ${r.unchanged} unchanged, ${r.retired} retired, ${r.restored} back again.`);
          console.log(`Without house number: ${r.withoutNumber}; without coordinates: ${r.withoutPoint}.`);
          if (r.flaggedResidents) console.log(`Residents flagged for review (their address left the register): ${r.flaggedResidents}.`);
          printAssignment(r.assignment);
        } else {
          const { importNeighborhoods } = await import('../server/core/neighborhoods/neighborhoods.import.ts');
          const r = await importNeighborhoods(handle.db, text, values['name-property'] as string | undefined);
          console.log(`Neighbourhoods read: ${r.features}: ${r.created} new, ${r.updated} updated; ${r.links} pairs of adjacent neighbourhoods.`);
          printAssignment(r.assignment);
        }
        return 0;
      });
    }
    case 'neighborhoods': {
      const { positionals } = parse(rest);
      if (positionals[0] !== 'list' || positionals.length > 1) throw new UsageError('say: neighborhoods list');
      const config = loadConfig(env);
      return withDb(config, async (handle) => {
        const { listNeighborhoods } = await import('../server/core/neighborhoods/neighborhoods.repository.ts');
        for (const n of await listNeighborhoods(handle.db)) console.log([n.slug, n.name, n.addresses, n.verifiedMembers].join('\t'));
        return 0;
      });
    }
    case 'admin': {
      const { positionals, values } = parse(rest, { email: { type: 'string' }, name: { type: 'string' } });
      if (positionals[0] !== 'create' || positionals.length > 1) throw new UsageError('say: admin create --email E [--name N]');
      if (typeof values.email !== 'string' || !values.email) throw new UsageError('admin create needs --email');
      const config = loadConfig(env);
      const password = await readPassword();
      const { AccountInputError, createAdmin } = await import('../server/core/auth/auth.service.ts');
      return withDb(config, async (handle) => {
        try {
          const user = await createAdmin(handle.db, { email: values.email as string, name: values.name as string | undefined, password });
          console.log(`Administrator ${user.email} created. Log in at ${config.baseUrl}/login`);
          return 0;
        } catch (err) {
          if (err instanceof AccountInputError) throw new OperatorError(`Cannot create the administrator: ${ACCOUNT_MESSAGES[err.key] ?? err.key}.`);
          throw err;
        }
      });
    }
    case 'letters': {
      const { positionals, values } = parse(rest, {
        neighborhood: { type: 'string' },
        out: { type: 'string' },
        'max-uses': { type: 'string' },
        'valid-days': { type: 'string' },
      });
      if (positionals.length) throw new UsageError(`letters takes no arguments (got "${positionals[0]}")`);
      const slug = values.neighborhood;
      const out = values.out;
      if (typeof slug !== 'string' || !slug) throw new UsageError('letters needs --neighborhood SLUG');
      if (typeof out !== 'string' || !out) throw new UsageError('letters needs --out FILE.html or --out FILE.csv');
      const format = /\.html?$/i.test(out) ? 'html' : /\.csv$/i.test(out) ? 'csv' : undefined;
      if (!format) throw new UsageError('--out must end in .html or .csv');
      const whole = (raw: unknown, name: string, max: number): number | undefined => {
        if (raw === undefined) return undefined;
        if (typeof raw !== 'string' || !/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) throw new UsageError(`${name} must be a whole number from 1 to ${max}`);
        return Number(raw);
      };
      const maxUses = whole(values['max-uses'], '--max-uses', 20);
      const validityDays = whole(values['valid-days'], '--valid-days', 3650);
      const config = loadConfig(env);
      const { writeLetters } = await import('../server/core/verification/letters.ts');
      return withDb(config, async (handle) => {
        const count = await writeLetters(handle.db, config, { slug, out, format, maxUses, validityDays });
        console.log(`${count} letters for ${slug} written to ${out}`);
        return 0;
      });
    }
  }
  return 2;
}

/** Runs the command line with the process's arguments and sets the exit code; bin/noper.js calls this. */
export async function main(argv = process.argv.slice(2)): Promise<void> {
  // `noper neighborhoods list | head`: a reader that stops early is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  });
  try {
    const code = await run(argv);
    if (code >= 0) process.exitCode = code;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`noper: ${err.message}\nRun 'noper --help' for usage.`);
      process.exitCode = 2;
    } else if (err instanceof ConfigError) {
      console.error(`noper: ${err.message}`);
      process.exitCode = 1;
    } else if (err instanceof OperatorError) {
      console.error(`noper: ${err.oneLine()}`);
      process.exitCode = 1;
    } else {
      console.error(`noper: unexpected error: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    }
  }
}

// Run directly (`tsx bin/noper.ts ...`); through bin/noper.js (npx, npm start) the shim calls main().
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) void main();
