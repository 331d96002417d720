// Both stores, fresh and empty, for tests that run the same checks on each: SQLite always,
// PostgreSQL where it answers at PG_URL. `sql` and `query` reach the tables behind the store's
// back (written with the fw_ prefix, as SQLite names them), to lay down data an older release
// left, or to see what the store made of it.
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { PostgresStore } from '../../server/pg-store';
import { SqliteStore } from '../../server/sqlite-store';
import type { EventStore, StoreOptions } from '../../server/store';
import { dropTables, PG_URL } from './pg-support';

export interface FreshStore {
  /** Opens the store on this data (again, as a restarted server would). */
  open(opts?: StoreOptions): Promise<EventStore>;
  sql(text: string, params?: unknown[]): Promise<void>;
  query<R>(text: string, params?: unknown[]): Promise<R[]>;
  /** The dialect's column types, for tables laid down by hand. */
  readonly types: { readonly real: string; readonly int: string; readonly eventsSuffix: string };
}

export interface StoreKind {
  readonly name: 'sqlite' | 'postgres';
  fresh(): FreshStore;
  /** Closes what was opened and drops what was made. */
  cleanUp(): Promise<void>;
}

export function sqliteKind(): StoreKind {
  const opened: EventStore[] = [];
  return {
    name: 'sqlite',
    fresh() {
      const file = join(mkdtempSync(join(tmpdir(), 'fw-kinds-')), 'store.sqlite');
      const withDb = <T>(fn: (db: Database.Database) => T): T => {
        const db = new Database(file);
        try {
          return fn(db);
        } finally {
          db.close();
        }
      };
      return {
        open: async (opts) => {
          const s = await SqliteStore.open(file, opts);
          opened.push(s);
          return s;
        },
        sql: async (text, params = []) => void withDb((db) => (params.length ? db.prepare(text).run(...params) : db.exec(text))),
        query: async <R>(text: string, params: unknown[] = []) => withDb((db) => db.prepare(text).all(...params) as R[]),
        types: { real: 'REAL', int: 'INTEGER', eventsSuffix: ' WITHOUT ROWID' },
      };
    },
    async cleanUp() {
      for (const s of opened.splice(0)) await s.close();
    },
  };
}

export function postgresKind(): StoreKind {
  const opened: EventStore[] = [];
  const prefixes: string[] = [];
  return {
    name: 'postgres',
    fresh() {
      const prefix = `fw_kinds_${process.pid}_${prefixes.length}_${Date.now().toString(36)}`;
      prefixes.push(prefix);
      // `?` placeholders as the SQLite text has them, numbered for PostgreSQL.
      const pgText = (text: string) => {
        let n = 0;
        return text.replaceAll('fw_', `${prefix}_`).replace(/\?/g, () => `$${++n}`);
      };
      const run = async <R>(text: string, params: unknown[]) => {
        const c = new pg.Client({ connectionString: PG_URL });
        await c.connect();
        try {
          return (await c.query(pgText(text), params)).rows as R[];
        } finally {
          await c.end();
        }
      };
      return {
        open: async (opts) => {
          const s = await PostgresStore.open({ url: PG_URL, prefix, applicationName: `fw-kinds-${process.pid}`, ...opts });
          opened.push(s);
          return s;
        },
        sql: async (text, params = []) => void (await run(text, params)),
        query: (text, params = []) => run(text, params),
        types: { real: 'DOUBLE PRECISION', int: 'BIGINT', eventsSuffix: '' },
      };
    },
    async cleanUp() {
      for (const s of opened.splice(0)) await s.close();
      for (const p of prefixes.splice(0)) await dropTables(p);
    },
  };
}
