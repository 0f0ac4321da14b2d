// Config: one validated, frozen object from the environment; a bad value stops the boot with one clear line naming the variable.
import path from 'node:path';
import t from 'tap';
import { ConfigError, loadConfig } from '../../server/config.ts';

t.test('an empty environment gives the documented defaults', async (t) => {
  const config = loadConfig({});
  t.equal(config.port, 3000);
  t.equal(config.host, '127.0.0.1');
  t.equal(config.dataDir, path.resolve('./data'));
  t.equal(config.databaseUrl, undefined, 'no DATABASE_URL means SQLite in DATA_DIR');
  t.equal(config.smtpUrl, undefined, 'no SMTP_URL means e-mails go to the outbox');
  t.equal(config.logLevel, 'info');
  t.equal(config.tzCommune, 'Europe/Luxembourg');
  t.equal(config.defaultLang, 'lb');
  t.equal(config.trustProxy, false, 'X-Forwarded-For is not trusted unless configured');
  t.equal(config.baseUrl, 'http://127.0.0.1:3000');
  t.equal(config.secureCookies, false);
});

t.test('valid values are read from the environment', async (t) => {
  const config = loadConfig({
    PORT: '8080',
    HOST: '0.0.0.0',
    DATABASE_URL: 'postgres://noper@db:5432/noper',
    BASE_URL: 'https://noper.example.lu/',
    TZ_COMMUNE: 'Europe/Paris',
    DEFAULT_LANG: 'FR',
    TRUST_PROXY: '10.0.0.1, 10.0.0.0/8, ::1',
  });
  t.equal(config.port, 8080);
  t.equal(config.host, '0.0.0.0');
  t.equal(config.databaseUrl, 'postgres://noper@db:5432/noper');
  t.equal(config.baseUrl, 'https://noper.example.lu', 'trailing slash dropped');
  t.equal(config.secureCookies, true, 'an https BASE_URL turns on secure cookies');
  t.equal(config.tzCommune, 'Europe/Paris');
  t.equal(config.defaultLang, 'fr');
  t.equal(config.trustProxy, '10.0.0.1, 10.0.0.0/8, ::1');
});

const bad: Array<[name: string, value: string, why: RegExp]> = [
  ['PORT', 'abc', /whole number from 0 to 65535/],
  ['PORT', '70000', /whole number from 0 to 65535/],
  ['TZ_COMMUNE', 'Mars/Olympus', /IANA time zone/],
  ['DEFAULT_LANG', 'xx', /lb, fr, de, en/],
  ['DATABASE_URL', 'mysql://x', /postgres:/],
  ['TRUST_PROXY', 'garbage', /hop count|proxy addresses/],
  // Hex letters and dots pass a character check but are no address: they must not get as far as Fastify's boot.
  ['TRUST_PROXY', 'cafe', /hop count|proxy addresses/],
  ['TRUST_PROXY', '10.0.0.300', /hop count|proxy addresses/],
  ['TRUST_PROXY', '10.0.0.0/33', /hop count|proxy addresses/],
];

for (const [name, value, why] of bad) {
  t.test(`${name}=${value} throws a ConfigError that names the variable and the value`, async (t) => {
    let caught: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (err) {
      caught = err;
    }
    t.ok(caught instanceof ConfigError, 'a ConfigError, not a crash somewhere later');
    const message = (caught as Error).message;
    t.match(message, new RegExp(`^${name}=`), 'the message starts with the variable');
    t.match(message, JSON.stringify(value), 'the message quotes the bad value');
    t.match(message, why, 'the message says what is expected');
    t.notMatch(message, /\n/, 'one line');
  });
}

t.test('the config object is frozen', async (t) => {
  const config = loadConfig({});
  t.ok(Object.isFrozen(config));
  t.throws(() => {
    (config as { port: number }).port = 1;
  }, TypeError);
  t.equal(config.port, 3000);
});

t.test('a config error never prints the password of a database or SMTP URL, whatever characters it has', async (t) => {
  for (const url of ['postgres://u:ab/cd@host/db', 'postgres://u:p#q?r@host/db', 'mysql://u:secret@host/db']) {
    try {
      loadConfig({ DATABASE_URL: url });
      t.fail('should throw');
    } catch (err) {
      t.ok(err instanceof ConfigError);
      t.notMatch((err as Error).message, /ab\/cd|p#q|secret/, `no password in: ${(err as Error).message}`);
      t.match((err as Error).message, /DATABASE_URL/);
    }
  }
});
