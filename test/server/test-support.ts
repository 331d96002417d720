// What the server tests share: realistic events, socket outcomes, enrolment, polling for a condition.
import { connect as tcp, type Socket } from 'node:net';
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { COCO_LABELS } from '../../src/model/labels';
import type { SessionSummary } from '../../src/sync/trainer-api';
import type { SyncEvent } from '../../src/sync/protocol';
import type { ServerProcess } from './spawn-server';

// ---- realistic payloads, as the recorder writes them ----

let seed = 20261124;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

/** One frame's detections, compact: label names once, boxes as [labelIndex, score, x, y, w, h]. */
export function detectionsPayload(frame: number, n = 25) {
  const labels = [...new Set(Array.from({ length: Math.min(12, n) }, () => COCO_LABELS[Math.floor(rand() * COCO_LABELS.length)]!))];
  const boxes = Array.from({ length: n }, () => [Math.floor(rand() * labels.length), round(0.3 + rand() * 0.7, 2), round(rand() * 600), round(rand() * 440), round(20 + rand() * 200), round(20 + rand() * 200)]);
  return { frame, time: round(frame / 30, 3), labels, boxes };
}

/** A task-state verdict: which step, what is there, what is missing. */
export function statePayload(frame: number, step: number) {
  const verdicts = [
    { type: 'holding', step, heldMs: Math.round(rand() * 1500) },
    { type: 'waiting', step, missing: ['cup'] },
    { type: 'step-complete', step },
    { type: 'derailed', step, reason: 'keyboard left the desk', absentMs: 2100 },
  ];
  return { task: 'desk-setup', step, frame, verdict: verdicts[Math.floor(rand() * verdicts.length)], objects: ['laptop', 'keyboard', 'cup', 'person'].slice(0, 1 + Math.floor(rand() * 4)) };
}

/**
 * When the events of these tests were recorded: about now, as a device's are, since the server
 * refuses times far from its own clock. One value per test file, so that the same events made
 * twice are the same bytes.
 */
export const RECORDED_AT = Date.now();

/** Events `from`…`to`: alternately a state verdict and a frame of `detections` (25 by default, 200 every tenth). */
export function events(from: number, to: number, opts: { detections?: number; ts?: number } = {}): SyncEvent[] {
  const out: SyncEvent[] = [];
  for (let seq = from; seq <= to; seq++) {
    const ts = (opts.ts ?? RECORDED_AT) + seq * 33;
    if (seq % 2) out.push({ seq, ts, kind: 'state', payload: statePayload(seq, Math.floor(seq / 20)) });
    else out.push({ seq, ts, kind: 'detections', payload: detectionsPayload(seq, opts.detections ?? (seq % 10 === 0 ? 200 : 25)) });
  }
  return out;
}

// ---- sockets ----

export interface WsOutcome {
  /** Close code, when the socket opened and was closed. */
  readonly code?: number;
  readonly reason?: string;
  /** HTTP status, when the upgrade was refused. */
  readonly status?: number;
}

export function wsOpen(server: Pick<ServerProcess, 'port'>, path: string, opts: { origin?: string; host?: string; autoPong?: boolean } = {}): WebSocket {
  return new WebSocket(`ws://127.0.0.1:${server.port}${path}`, {
    ...(opts.origin ? { origin: opts.origin } : {}),
    ...(opts.host ? { headers: { host: opts.host } } : {}),
    autoPong: opts.autoPong ?? true,
  });
}

/** Resolves with the close code, or the HTTP status of a refused upgrade. */
export function outcome(sock: WebSocket): Promise<WsOutcome> {
  return new Promise((done) => {
    sock.on('unexpected-response', (_req, res) => {
      done({ status: res.statusCode });
      res.resume();
    });
    sock.on('close', (code, reason) => done({ code, reason: reason.toString() }));
    sock.on('error', () => {});
  });
}

export const opened = (sock: WebSocket) =>
  new Promise<void>((ok, fail) => {
    if (sock.readyState === WebSocket.OPEN) return ok();
    sock.once('open', () => ok());
    sock.once('error', fail);
    sock.once('unexpected-response', (_req, res) => fail(new Error(`upgrade refused: ${res.statusCode}`)));
  });

/** Messages as they arrive, kept from the start so that none is missed between awaits. */
export class Inbox {
  private readonly messages: Record<string, unknown>[] = [];
  private waiters: (() => void)[] = [];
  closed: WsOutcome | undefined;

  constructor(readonly sock: WebSocket) {
    sock.on('message', (d) => {
      this.messages.push(JSON.parse(d.toString()) as Record<string, unknown>);
      this.wake();
    });
    void outcome(sock).then((o) => {
      this.closed = o;
      this.wake();
    });
  }

  private wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** The next message (or the close, as an error). */
  async next(): Promise<Record<string, unknown>> {
    for (;;) {
      const m = this.messages.shift();
      if (m) return m;
      if (this.closed) throw new Error(`socket closed: ${JSON.stringify(this.closed)}`);
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  async until<T>(pick: (m: Record<string, unknown>) => T | undefined): Promise<T> {
    for (;;) {
      const hit = pick(await this.next());
      if (hit !== undefined) return hit;
    }
  }

  async closedWith(): Promise<WsOutcome> {
    while (!this.closed) await new Promise<void>((r) => this.waiters.push(r));
    return this.closed;
  }

  send(m: unknown): void {
    this.sock.send(typeof m === 'string' ? m : JSON.stringify(m));
  }
}

/** A sync socket that said hello for `sessionId` and got its welcome. */
export async function greet(server: Pick<ServerProcess, 'port'>, sessionId: string, token: string): Promise<{ inbox: Inbox; ackedSeq: number }> {
  const sock = wsOpen(server, '/sync');
  const inbox = new Inbox(sock);
  await opened(sock);
  inbox.send({ type: 'hello', sessionId, token });
  const w = await inbox.next();
  if (w.type !== 'welcome') throw new Error(`expected welcome, got ${JSON.stringify(w)}`);
  return { inbox, ackedSeq: w.ackedSeq as number };
}

/** Sends events and waits for their ack. */
export async function sendEvents(inbox: Inbox, sessionId: string, evs: SyncEvent[]): Promise<number> {
  inbox.send({ type: 'events', sessionId, events: evs });
  return inbox.until((m) => (m.type === 'ack' && m.sessionId === sessionId ? (m.seq as number) : undefined));
}

// ---- HTTP ----

export async function enrol(server: Pick<ServerProcess, 'url'>, name: string, code?: string): Promise<{ deviceId: string; token: string }> {
  const res = await fetch(`${server.url}/api/devices`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(code === undefined ? { name } : { name, code }) });
  if (res.status !== 201) throw new Error(`enrolment: ${res.status} ${await res.text()}`);
  return (await res.json()) as { deviceId: string; token: string };
}

export async function api<T = unknown>(server: Pick<ServerProcess, 'url'>, path: string, token: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(`${server.url}${path}`, { ...init, headers: { ...(init.headers ?? {}), authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** The events endpoint's body, as text: what "byte-identical" is checked on. */
export async function eventsText(server: Pick<ServerProcess, 'url'>, sessionId: string, token: string): Promise<string> {
  const res = await fetch(`${server.url}/api/sessions/${sessionId}/events?limit=5000`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`events of ${sessionId}: ${res.status}`);
  return res.text();
}

/** A raw HTTP exchange, for what fetch would normalise away (paths with `..`, odd Host headers). */
export function rawHttp(port: number, request: string): Promise<{ status: number; head: string; body: string }> {
  return new Promise((done, fail) => {
    const sock: Socket = tcp(port, '127.0.0.1');
    let data = '';
    sock.on('data', (b) => (data += b.toString('latin1')));
    sock.on('error', fail);
    sock.on('close', () => {
      const [head = '', ...rest] = data.split('\r\n\r\n');
      done({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? 0), head, body: rest.join('\r\n\r\n') });
    });
    sock.write(request);
  });
}

// ---- waiting for conditions ----

/** Polls until `check` returns a value that is not undefined/false; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** An RFC 4180 reader written apart from server/csv.ts, so the exports are checked by an independent parser. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(cell), (cell = '');
    else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      (row = []), (cell = ''), i++;
    } else cell += c;
  }
  if (row.length > 0 || cell !== '') throw new Error('the CSV does not end with CRLF');
  return rows;
}

/** A stand-in for a dashboard's socket on the live feed: records what the server sends it. */
export class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: { type: string; sessions: SessionSummary[] }[] = [];
  send(text: string) {
    this.sent.push(JSON.parse(text));
  }
  close() {
    this.readyState = 3;
    this.emit('close');
  }
  terminate() {
    this.close();
  }
}
