// For tests that need PostgreSQL: where it is, whether it answers, and cleaning up test tables.
import pg from 'pg';

export const PG_URL = process.env.FRAMEWISE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Undefined when PostgreSQL answers at PG_URL; otherwise why not. */
export async function pgUnreachable(): Promise<string | undefined> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  c.on('error', () => {});
  try {
    await c.connect();
    await c.query('SELECT 1');
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    await c.end().catch(() => {});
  }
}

export async function dropTables(prefix: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  c.on('error', () => {});
  await c.connect();
  try {
    for (const t of ['events', 'sessions', 'devices', 'usage', 'timeline', 'timeline_steps']) await c.query(`DROP TABLE IF EXISTS ${prefix}_${t}`);
  } finally {
    await c.end();
  }
}
