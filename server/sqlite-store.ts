// One instance, one file. better-sqlite3 is synchronous: a transaction has committed (WAL,
// synchronous=FULL, so it survives a kill -9 or a power cut) when the call returns.
import Database from 'better-sqlite3';
import type { Device, SessionSummary, SyncEvent } from '../src/sync/protocol';
import {
  encodeCursor,
  summaryDelta,
  summaryFromRow,
  type AppendResult,
  type ClaimResult,
  type DeviceRecord,
  type RawEvent,
  type SessionsCursor,
  type SessionsPage,
  type Store,
  type StoreChange,
  type SummaryRow,
} from './store';

interface DeviceRow {
  device_id: string;
  name: string;
  secret_hash: string;
  created_at: number;
  revoked_at: number | null;
}

const deviceFromRow = (r: DeviceRow): DeviceRecord => ({ deviceId: r.device_id, name: r.name, secretHash: r.secret_hash, createdAt: r.created_at, revokedAt: r.revoked_at });
const publicDevice = ({ deviceId, name, createdAt, revokedAt }: DeviceRecord): Device => ({ deviceId, name, createdAt, revokedAt });

const SUMMARY_COLUMNS = 's.session_id, s.device_id, d.name, s.events, s.last_seq, s.first_ts, s.last_ts, s.last_state';

export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly listeners = new Set<(c: StoreChange) => void>();
  private readonly q;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    // New table names: the old `events` table kept no owner, and its rows cannot be attributed to a device.
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS fw_devices (
        device_id TEXT PRIMARY KEY, name TEXT NOT NULL, secret_hash TEXT NOT NULL, created_at REAL NOT NULL, revoked_at REAL);
      CREATE TABLE IF NOT EXISTS fw_sessions (
        session_id TEXT PRIMARY KEY, device_id TEXT NOT NULL, created_at REAL NOT NULL,
        events INTEGER NOT NULL DEFAULT 0, last_seq INTEGER NOT NULL DEFAULT 0,
        first_ts REAL, last_ts REAL, last_state TEXT);
      CREATE INDEX IF NOT EXISTS fw_sessions_newest ON fw_sessions (first_ts DESC, session_id DESC) WHERE first_ts IS NOT NULL;
      CREATE TABLE IF NOT EXISTS fw_events (
        session_id TEXT NOT NULL, seq INTEGER NOT NULL, ts REAL NOT NULL, kind TEXT NOT NULL, payload TEXT NOT NULL,
        PRIMARY KEY (session_id, seq)) WITHOUT ROWID;`);
    const db = this.db;
    this.q = {
      insertDevice: db.prepare('INSERT INTO fw_devices (device_id, name, secret_hash, created_at, revoked_at) VALUES (?, ?, ?, ?, NULL)'),
      device: db.prepare<[string], DeviceRow>('SELECT * FROM fw_devices WHERE device_id = ?'),
      devices: db.prepare<[], DeviceRow>('SELECT * FROM fw_devices ORDER BY created_at, device_id'),
      revoke: db.prepare('UPDATE fw_devices SET revoked_at = ? WHERE device_id = ? AND revoked_at IS NULL'),
      claim: db.prepare('INSERT INTO fw_sessions (session_id, device_id, created_at) VALUES (?, ?, ?) ON CONFLICT (session_id) DO NOTHING'),
      owner: db.prepare<[string], { device_id: string; last_seq: number; revoked_at: number | null }>(
        'SELECT s.device_id, s.last_seq, d.revoked_at FROM fw_sessions s LEFT JOIN fw_devices d ON d.device_id = s.device_id WHERE s.session_id = ?',
      ),
      insertEvent: db.prepare('INSERT INTO fw_events (session_id, seq, ts, kind, payload) VALUES (?, ?, ?, ?, ?)'),
      summarise: db.prepare(`UPDATE fw_sessions SET events = events + ?, last_seq = ?, first_ts = COALESCE(first_ts, ?),
        last_ts = MAX(COALESCE(last_ts, ?), ?), last_state = COALESCE(?, last_state) WHERE session_id = ?`),
      firstPage: db.prepare<[number], SummaryRow>(`SELECT ${SUMMARY_COLUMNS} FROM fw_sessions s LEFT JOIN fw_devices d ON d.device_id = s.device_id
        WHERE s.first_ts IS NOT NULL ORDER BY s.first_ts DESC, s.session_id DESC LIMIT ?`),
      nextPage: db.prepare<[number, number, string, number], SummaryRow>(`SELECT ${SUMMARY_COLUMNS} FROM fw_sessions s LEFT JOIN fw_devices d ON d.device_id = s.device_id
        WHERE s.first_ts IS NOT NULL AND (s.first_ts < ? OR (s.first_ts = ? AND s.session_id < ?)) ORDER BY s.first_ts DESC, s.session_id DESC LIMIT ?`),
      events: db.prepare<[string, number, number], { seq: number; ts: number; kind: RawEvent['kind']; payload: string }>(
        'SELECT seq, ts, kind, payload FROM fw_events WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?',
      ),
    };
  }

  async createDevice(d: DeviceRecord): Promise<void> {
    this.q.insertDevice.run(d.deviceId, d.name, d.secretHash, d.createdAt);
  }

  async device(deviceId: string): Promise<DeviceRecord | undefined> {
    const r = this.q.device.get(deviceId);
    return r && deviceFromRow(r);
  }

  async devices(): Promise<Device[]> {
    return this.q.devices.all().map((r) => publicDevice(deviceFromRow(r)));
  }

  async revokeDevice(deviceId: string, at: number): Promise<Device | undefined> {
    const changed = this.q.revoke.run(at, deviceId).changes > 0;
    const r = this.q.device.get(deviceId);
    if (changed) this.emit({ type: 'revoke', deviceId });
    return r && publicDevice(deviceFromRow(r));
  }

  async claimSession(sessionId: string, deviceId: string, at: number): Promise<ClaimResult> {
    return this.db.transaction(() => {
      this.q.claim.run(sessionId, deviceId, at);
      const r = this.q.owner.get(sessionId)!;
      return { owner: r.device_id, lastSeq: r.last_seq };
    }).immediate();
  }

  async append(deviceId: string, sessionId: string, events: readonly SyncEvent[]): Promise<AppendResult> {
    const result = this.db.transaction((): AppendResult => {
      const owner = this.q.owner.get(sessionId);
      if (!owner || owner.device_id !== deviceId) return { ok: false, why: 'forbidden' };
      if (owner.revoked_at !== null) return { ok: false, why: 'revoked' };
      const delta = summaryDelta(owner.last_seq, events);
      if (!delta) return { ok: true, seq: owner.last_seq, stored: 0 };
      delta.run.forEach((e, i) => this.q.insertEvent.run(sessionId, e.seq, e.ts, e.kind, delta.payloads[i]!));
      this.q.summarise.run(delta.run.length, delta.lastSeq, delta.firstTs, delta.maxTs, delta.maxTs, delta.lastState, sessionId);
      return { ok: true, seq: delta.lastSeq, stored: delta.run.length };
    }).immediate();
    if (result.ok && result.stored > 0) this.emit({ type: 'append', sessionId });
    return result;
  }

  async sessions(limit: number, cursor?: SessionsCursor): Promise<SessionsPage> {
    const rows = cursor ? this.q.nextPage.all(cursor.firstTs, cursor.firstTs, cursor.sessionId, limit + 1) : this.q.firstPage.all(limit + 1);
    const page = rows.slice(0, limit).map(summaryFromRow);
    const last = page.at(-1);
    return { sessions: page, next: rows.length > limit && last ? encodeCursor(last) : null };
  }

  async sessionsById(ids: readonly string[]): Promise<SessionSummary[]> {
    if (!ids.length) return [];
    const rows: SummaryRow[] = [];
    // Bounded statements: SQLite limits the number of parameters.
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      rows.push(
        ...(this.db
          .prepare(`SELECT ${SUMMARY_COLUMNS} FROM fw_sessions s LEFT JOIN fw_devices d ON d.device_id = s.device_id
            WHERE s.first_ts IS NOT NULL AND s.session_id IN (${chunk.map(() => '?').join(',')})`)
          .all(...chunk) as SummaryRow[]),
      );
    }
    return rows.sort((a, b) => b.first_ts - a.first_ts || (a.session_id < b.session_id ? 1 : -1)).map(summaryFromRow);
  }

  async events(sessionId: string, afterSeq: number, limit: number): Promise<RawEvent[]> {
    return this.q.events.all(sessionId, afterSeq, limit).map((r) => ({ sessionId, seq: r.seq, ts: r.ts, kind: r.kind, payload: r.payload }));
  }

  onChange(listener: (c: StoreChange) => void): void {
    this.listeners.add(listener);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private emit(change: StoreChange): void {
    for (const l of this.listeners) {
      try {
        l(change);
      } catch {
        // A listener's failure is its own; the write has committed.
      }
    }
  }
}
