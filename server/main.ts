// Reads the config, builds the app, listens, and closes gracefully on SIGTERM/SIGINT (in-flight requests finish, sockets and database close).
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import type { Config } from './config.ts';

const SHUTDOWN_GRACE_MS = 10_000;

export async function serve(config: Config): Promise<FastifyInstance> {
  const app = await buildApp(config, { runJobs: true });
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      app.log.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    app.close().then(
      () => {
        clearTimeout(force);
        process.exit(0);
      },
      (err) => {
        app.log.error({ err }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  if (config.trustProxy === true) app.log.warn('TRUST_PROXY=true trusts X-Forwarded-For from anyone: use it only when Noper is reachable through the proxy alone');
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    // Port taken or not allowed: release the database (on PostgreSQL its pool and LISTEN clients would keep the process alive).
    await app.close().catch(() => {});
    throw err;
  }
  app.log.info(`Noper is serving ${config.databaseUrl ? 'from PostgreSQL' : `from SQLite in ${config.dataDir}`} at ${config.baseUrl}`);
  return app;
}
