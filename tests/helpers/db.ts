// Which database the suite runs on: SQLite by default, PostgreSQL when DATABASE_URL is a postgres:// URL (CI runs both).
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const PG_URL = process.env.DATABASE_URL && /^postgres(ql)?:/.test(process.env.DATABASE_URL) ? process.env.DATABASE_URL : undefined;
export const ENGINE: 'sqlite' | 'postgres' = PG_URL ? 'postgres' : 'sqlite';

/** A fresh, empty PostgreSQL database on the configured server; returns its URL and a drop function. */
export async function freshPgDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  if (!PG_URL) throw new Error('no PostgreSQL configured');
  const name = `noper_t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(PG_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
