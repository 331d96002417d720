import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { ClientConfigSchema, EnrollRequestSchema, LIMITS, parseClientMessage, parseServerMessage, type SyncEvent } from './protocol';
import { EventsQuerySchema, OUTCOMES, SESSION_CSV_COLUMNS, SessionExportQuerySchema, SessionsExportQuerySchema, SessionsQuerySchema, TaskIdSchema, TIMELINE_CSV_COLUMNS } from './trainer-api';
import { jsonBytes, jsonDepth, parseBounded, wellFormed } from './bounded-json';
import { parseLiveClientMessage } from './live-protocol';

const TOKEN = 'fwd.AAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB';
/** A frame of 25 detections as the recorder writes it: labels once, boxes as [labelIndex, score, x, y, w, h]. */
const detections = (frame: number, n = 25) => ({
  frame,
  time: frame / 30,
  labels: ['person', 'cup', 'keyboard', 'laptop'],
  boxes: Array.from({ length: n }, (_, i) => [i % 4, 0.91, 12.5 + i, 40.2, 80.4, 60.1]),
});
const ev = (seq: number, kind: SyncEvent['kind'] = 'state'): SyncEvent => ({ seq, ts: 1_790_000_000_000 + seq, kind, payload: kind === 'detections' ? detections(seq) : { task: 'desk-setup', step: 2, verdict: { type: 'holding', heldMs: 800 } } });
const events = (events: unknown[], sessionId = 'abcdefgh') => JSON.stringify({ type: 'events', sessionId, events });

describe('client messages', () => {
  it('accepts a hello with a token, and well-formed events', () => {
    expect(parseClientMessage(JSON.stringify({ type: 'hello', sessionId: 'abcdefgh', token: TOKEN }))).toEqual({ ok: true, msg: { type: 'hello', sessionId: 'abcdefgh', token: TOKEN } });
    const msg = { type: 'events', sessionId: 'abcdefgh', events: [ev(1), ev(2, 'detections'), ev(3)] };
    expect(parseClientMessage(JSON.stringify(msg))).toEqual({ ok: true, msg });
  });

  it('accepts a frame of 200 detections in one event, and 200 events in one message', () => {
    expect(jsonBytes(detections(1, 200))).toBeLessThan(LIMITS.maxPayloadBytes);
    expect(parseClientMessage(events([{ seq: 1, ts: 1, kind: 'detections', payload: detections(1, 200) }])).ok).toBe(true);
    expect(parseClientMessage(events(Array.from({ length: 200 }, (_, i) => ev(i + 1, i % 2 ? 'detections' : 'state')))).ok).toBe(true);
  });

  it.each([
    ['not JSON', '{'],
    ['Invalid type', '[]'],
    ['token', JSON.stringify({ type: 'hello', sessionId: 'abcdefgh' })], // the old hello, without a credential
    ['token', JSON.stringify({ type: 'hello', sessionId: 'abcdefgh', token: '' })],
    ['token', JSON.stringify({ type: 'hello', sessionId: 'abcdefgh', token: 'x'.repeat(LIMITS.maxTokenChars + 1) })],
    ['bad sessionId', JSON.stringify({ type: 'hello', sessionId: 'x', token: TOKEN })],
    ['admin', JSON.stringify({ type: 'hello', sessionId: 'abcdefgh', token: TOKEN, admin: true })],
    ['type', JSON.stringify({ type: 'drop-table', sessionId: 'abcdefgh' })],
    ['events', events([])],
    ['events out of order', events([ev(2), ev(1)])],
    ['events out of order', events([ev(1), ev(1)])],
    ['seq', events([{ ...ev(1), seq: 0.5 }])],
    ['seq', events([{ ...ev(1), seq: 0 }])],
    ['seq', events([{ ...ev(1), seq: 2 ** 53 }])],
    ['ts', events([{ ...ev(1), ts: 'now' }])],
    ['kind', events([{ ...ev(1), kind: 'rm' }])],
    ['payload', events([{ seq: 1, ts: 1, kind: 'state' }])],
    [`payload over ${LIMITS.maxPayloadBytes} bytes`, events([{ ...ev(1), payload: 'x'.repeat(20_000) }])],
    ['admin', events([{ ...ev(1), admin: true }])],
    ['events', events(Array.from({ length: 201 }, (_, i) => ev(i + 1)))],
  ])('rejects a message (%#, reason "%s")', (reason, raw) => {
    const parsed = parseClientMessage(raw);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toContain(reason);
  });

  it('refuses ts that JSON turns into Infinity', () => {
    expect(parseClientMessage('{"type":"events","sessionId":"abcdefgh","events":[{"seq":1,"ts":1e400,"kind":"state","payload":1}]}')).toMatchObject({ ok: false });
  });
});

describe('bounds before parsing', () => {
  it('measures nesting without parsing, ignoring brackets inside strings', () => {
    expect(jsonDepth('{"a":[1,{"b":[]}]}')).toBe(4);
    expect(jsonDepth('"[[[[[[["')).toBe(0);
    expect(jsonDepth('["\\"[[[["]')).toBe(1);
    expect(jsonDepth('['.repeat(10_000), 32)).toBe(33); // stops as soon as it is over
  });

  it('refuses a 10 KB message nested 5,000 deep without throwing', () => {
    const deep = `{"type":"events","sessionId":"abcdefgh","events":[{"seq":1,"ts":1,"kind":"state","payload":${'['.repeat(5000)}${']'.repeat(5000)}}]}`;
    expect(deep.length).toBeGreaterThan(10_000);
    expect(parseClientMessage(deep)).toEqual({ ok: false, reason: `nested deeper than ${LIMITS.maxDepth}` });
    // A payload exactly at the limit is fine: the message adds 3 levels around it.
    const atLimit = events([{ seq: 1, ts: 1, kind: 'state', payload: JSON.parse('['.repeat(LIMITS.maxDepth - 3) + ']'.repeat(LIMITS.maxDepth - 3)) }]);
    expect(parseClientMessage(atLimit).ok).toBe(true);
  });

  it('counts size in UTF-8 bytes, not characters', () => {
    const chars = Math.floor(LIMITS.maxMessageBytes / 3) + 100; // under the limit in characters, over it in bytes
    const raw = JSON.stringify({ type: 'hello', sessionId: 'abcdefgh', token: '€'.repeat(chars) }); // 3 bytes each
    expect(raw.length).toBeLessThan(LIMITS.maxMessageBytes);
    expect(parseClientMessage(raw)).toEqual({ ok: false, reason: `over ${LIMITS.maxMessageBytes} bytes` });
  });

  it('never throws, whatever the text', () => {
    for (const raw of ['', '\u0000', '\ud800', '{"__proto__":{"type":"hello"}}', 'null', '1e999', '"'.repeat(1000), '\\'.repeat(1000)]) {
      expect(() => parseClientMessage(raw)).not.toThrow();
      expect(parseClientMessage(raw).ok).toBe(false);
    }
  });
});

describe('server, live and HTTP shapes', () => {
  it('parses what the server sends', () => {
    expect(parseServerMessage('{"type":"welcome","sessionId":"abcdefgh","ackedSeq":4}')).toEqual({ ok: true, msg: { type: 'welcome', sessionId: 'abcdefgh', ackedSeq: 4 } });
    expect(parseServerMessage('{"type":"ack","sessionId":"abcdefgh","seq":-1}').ok).toBe(false);
    expect(parseLiveClientMessage('{"type":"hello","token":"secret"}')).toEqual({ ok: true, msg: { type: 'hello', token: 'secret' } });
    expect(parseLiveClientMessage(`{"type":"hello","token":"${'x'.repeat(2000)}"}`).ok).toBe(false);
  });

  it('holds no secret in the client config', () => {
    expect(v.safeParse(ClientConfigSchema, { syncPath: '/sync', enrollPath: '/api/devices', enrollment: 'open' }).success).toBe(true);
    expect(v.safeParse(ClientConfigSchema, { syncPath: '/sync', enrollPath: '/api/devices', enrollment: 'open', token: 'x' }).success).toBe(false);
  });

  it('takes a printable device name of at most 80 characters, trimmed', () => {
    expect(v.parse(EnrollRequestSchema, { name: '  desk camera 😀 ', code: 'c' })).toEqual({ name: 'desk camera 😀', code: 'c' });
    for (const name of ['', '   ', 'x'.repeat(81), 'cam\u0000', 'cam\n2', 'cam\ud800', '\udc00cam']) expect(v.safeParse(EnrollRequestSchema, { name }).success, JSON.stringify(name)).toBe(false);
    expect(wellFormed('a😀b')).toBe(true);
    expect(wellFormed('a\ud83db')).toBe(false);
  });

  it('reads query strings into bounded numbers', () => {
    expect(v.parse(SessionsQuerySchema, {})).toEqual({ limit: 50 });
    expect(v.parse(SessionsQuerySchema, { limit: '200', cursor: 'abc' })).toEqual({ limit: 200, cursor: 'abc' });
    for (const q of [{ limit: '201' }, { limit: '0' }, { limit: '-1' }, { limit: '1.5' }, { limit: ['1', '2'] }, { other: '1' }]) expect(v.safeParse(SessionsQuerySchema, q).success, JSON.stringify(q)).toBe(false);
    expect(v.parse(EventsQuerySchema, {})).toEqual({ after: 0, limit: 1000 });
    expect(v.parse(EventsQuerySchema, { after: '12', limit: '5000' })).toEqual({ after: 12, limit: 5000 });
    for (const q of [{ after: 'abc' }, { after: '-1' }, { limit: '5001' }]) expect(v.safeParse(EventsQuerySchema, q).success, JSON.stringify(q)).toBe(false);
  });

  it('reads the list filters: a device id, a task, one of the outcomes, and a trimmed search that may be empty', () => {
    expect(v.parse(SessionsQuerySchema, { device: 'bench-device-0001', task: 'desk-setup', outcome: 'abandoned', q: '  Kitchen ' })).toEqual({ limit: 50, device: 'bench-device-0001', task: 'desk-setup', outcome: 'abandoned', q: 'Kitchen' });
    expect(v.parse(SessionsQuerySchema, { q: '   ' }).q).toBeUndefined();
    for (const outcome of OUTCOMES) expect(v.parse(SessionsQuerySchema, { outcome }).outcome).toBe(outcome);
    for (const q of [{ outcome: 'done' }, { outcome: ['completed', 'abandoned'] }, { device: 'a b' }, { device: '' }, { task: '' }, { task: 'x'.repeat(201) }, { q: 'a\u0000' }, { q: 'x'.repeat(101) }, { q: '\ud800' }]) {
      expect(v.safeParse(SessionsQuerySchema, q).success, JSON.stringify(q)).toBe(false);
    }
    expect(v.parse(SessionsExportQuerySchema, { format: 'csv', outcome: 'completed' })).toEqual({ format: 'csv', outcome: 'completed' });
    for (const q of [{}, { format: 'xlsx' }, { format: 'csv', limit: '5' }, { format: 'csv', cursor: 'x' }]) expect(v.safeParse(SessionsExportQuerySchema, q).success, JSON.stringify(q)).toBe(false);
    expect(v.safeParse(SessionExportQuerySchema, { format: 'json', q: 'x' }).success).toBe(false);
    expect(v.safeParse(TaskIdSchema, 'my task, v2').success).toBe(true);
    for (const id of ['', 'a\nb', 'x'.repeat(201)]) expect(v.safeParse(TaskIdSchema, id).success, JSON.stringify(id)).toBe(false);
  });

  it('names each CSV column once', () => {
    for (const columns of [SESSION_CSV_COLUMNS, TIMELINE_CSV_COLUMNS]) expect(new Set(columns).size).toBe(columns.length);
  });

  it('bounds parseBounded by the size it is given', () => {
    expect(parseBounded(v.string(), '"abcdef"', 4)).toEqual({ ok: false, reason: 'over 4 bytes' });
  });
});
