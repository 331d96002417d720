// Generators of hostile and ordinary wire messages, shared by the fuzz test and the SQLite /
// PostgreSQL parity test. A message is generated as a description and rendered to text at run
// time, because which session ids and tokens exist is only known then.
import fc from 'fast-check';
import { LIMITS } from '../../src/sync/protocol';
import { detectionsPayload, statePayload } from './test-support';

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
/** Text with the characters that break naive handling: NUL and other controls, lone surrogates, astral and combining characters. */
export const nastyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.array(fc.oneof(loneSurrogate, fc.constantFrom('\u0000', '\u001f', '\u007f', '\u2028', '\u2029', '\ufeff', '😀', 'e\u0301', '"', '\\', '</script>', "'; DROP TABLE fw_events; --"), fc.string({ maxLength: 4 })), { maxLength: 12 }).map((a) => a.join('')),
);

/** Numbers JSON can carry, and some it cannot (rendered as text, they parse to Infinity or lose precision). */
export const numberText = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  fc.integer().map(String),
  fc.constantFrom('-0', '0.0', '1e400', '-1e400', '1e-400', '5e-324', '1.7976931348623157e308', '9007199254740993', '-9007199254740993', '123456789012345678901234567890', '1E5', '1.5', '-1', '0'),
);

function nested(depth: number, leaf: string): string {
  return '['.repeat(depth) + leaf + ']'.repeat(depth);
}

/** Payloads every store must take: realistic ones, random JSON, nasty strings (escaped), odd numbers, just inside the depth and size limits. */
export const validPayloadText: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 100_000 }).map((f) => JSON.stringify(statePayload(f, f % 7))) },
  { weight: 3, arbitrary: fc.tuple(fc.integer({ min: 1, max: 100_000 }), fc.constantFrom(1, 25, 25, 200)).map(([f, n]) => JSON.stringify(detectionsPayload(f, n))) },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null') },
  { weight: 2, arbitrary: nastyString.map((s) => JSON.stringify(s)) },
  { weight: 2, arbitrary: fc.dictionary(nastyString, fc.oneof(nastyString, fc.double({ noNaN: true, noDefaultInfinity: true })), { maxKeys: 5 }).map((o) => JSON.stringify(o)) },
  { weight: 2, arbitrary: fc.constantFrom('-0', '0.0', '1e-400', '5e-324', '1.7976931348623157e308', '9007199254740993', '123456789012345678901234567890', '1E5', '-1.5') },
  { weight: 1, arbitrary: fc.constantFrom('{"__proto__":{"admin":true}}', '{"a":1,"a":2}', '{"constructor":{"prototype":{"x":1}}}', '[]', '{}', 'null', 'true', '""', '"\\u0000"', '"\\ud800"', '"\\udc00x\\ud83d"', '{"k":"\\u0000\\u001f\\u2028"}') },
  // Just inside the nesting limit: the message adds 3 levels (object, events array, event) around the payload.
  { weight: 1, arbitrary: fc.integer({ min: LIMITS.maxDepth - 8, max: LIMITS.maxDepth - 3 }).map((d) => nested(d, '"deep"')) },
  // Just inside the size limit of one payload.
  { weight: 1, arbitrary: fc.integer({ min: LIMITS.maxPayloadBytes - 40, max: LIMITS.maxPayloadBytes }).map((n) => JSON.stringify('é' + 'x'.repeat(n - 4))) },
);

/** Any payload text, valid or not: the above, and what the parser must refuse (too deep, too big, not JSON, not finite). */
export const payloadText: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: validPayloadText },
  { weight: 1, arbitrary: nastyString.map((s) => `"${s.replace(/["\\]/g, '')}"`) }, // raw, unescaped: controls inside a JSON string are invalid
  { weight: 1, arbitrary: numberText },
  { weight: 1, arbitrary: fc.constantFrom('[1,]', '{"a"}', "'single'", 'undefined', 'NaN', '1e400', '-Infinity') },
  { weight: 1, arbitrary: fc.integer({ min: LIMITS.maxDepth - 3, max: LIMITS.maxDepth + 2 }).map((d) => nested(d, '1')) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 6000 }).map((d) => nested(d, '')) },
  { weight: 1, arbitrary: fc.integer({ min: LIMITS.maxPayloadBytes - 10, max: LIMITS.maxPayloadBytes + 40 }).map((n) => JSON.stringify('é' + 'x'.repeat(n - 4))) },
);

/** `greeted`: one this socket has said hello for (as a client would), else the first of `run`. */
export type SessionRef = { readonly pool: 'run' | 'long' | 'foreign' | 'other' | 'bad' | 'greeted'; readonly i: number };
export type TokenRef = 'mine' | 'second' | 'forged' | 'random' | 'admin';

export type MessageDesc =
  | { readonly k: 'hello'; readonly session: SessionRef; readonly token: TokenRef; readonly randomToken: string; readonly extra: string }
  | {
      readonly k: 'events';
      readonly session: SessionRef;
      /** Sequence numbers relative to what the model says is stored (0 = the next one). */
      readonly from: number;
      readonly seqs: readonly (number | string)[];
      /** A number: milliseconds from the server's clock (`RenderContext.now`); text: the ts as written. */
      readonly ts: readonly (number | string)[];
      readonly kinds: readonly string[];
      readonly payloads: readonly string[];
      readonly extra: string;
    }
  | { readonly k: 'raw'; readonly text: string }
  | { readonly k: 'mutate'; readonly base: MessageDesc; readonly edits: readonly [number, number, string][] }
  | { readonly k: 'binary'; readonly bytes: Uint8Array };

const sessionRef: fc.Arbitrary<SessionRef> = fc.record({
  pool: fc.constantFrom<SessionRef['pool']>('run', 'run', 'run', 'long', 'long', 'foreign', 'other', 'bad'),
  i: fc.integer({ min: 0, max: 5 }),
});

const extraField = fc.constantFrom('', '', '', '', ',"admin":true', ',"__proto__":{"x":1}', ',"type":"hello"', ',"token":"x"');

const hello: fc.Arbitrary<MessageDesc> = fc.record({
  k: fc.constant('hello' as const),
  session: sessionRef,
  token: fc.constantFrom<TokenRef>('mine', 'mine', 'mine', 'second', 'forged', 'random', 'admin'),
  randomToken: fc.oneof(nastyString, fc.string({ maxLength: 300 })),
  extra: extraField,
});

const greetedRef: fc.Arbitrary<SessionRef> = fc.oneof({ weight: 4, arbitrary: fc.record({ pool: fc.constant('greeted' as const), i: fc.nat(5) }) }, { weight: 1, arbitrary: sessionRef });

const DAY = 86_400_000;
/** A time a device's clock gives: within a few days of the server's (the window is ±7 days). */
const recent = fc.integer({ min: -6 * DAY, max: 6 * DAY });
/** A clock set wrong, or a backlog synced late: just inside or just past the window, or weeks to years either side. */
// A minute or two either side of the edge, so that a model reading the clock a few milliseconds before the server agrees with it.
const farOff = fc.oneof(fc.integer({ min: 7 * DAY - 120_000, max: 7 * DAY - 60_000 }), fc.integer({ min: 7 * DAY + 60_000, max: 7 * DAY + 120_000 }), fc.integer({ min: 8 * DAY, max: 3_000 * DAY })).chain((ms) => fc.constantFrom(ms, -ms));

/** Well-formed events, as a client sends them: in order, from about where the store is, with payloads every store takes. */
const cleanEvents: fc.Arbitrary<MessageDesc> = fc.integer({ min: 1, max: 8 }).chain((n) =>
  fc.record({
    k: fc.constant('events' as const),
    session: greetedRef,
    from: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -4, max: 2 }) }),
    seqs: fc.constant(Array.from({ length: n }, () => 0)),
    ts: fc.array(fc.oneof({ weight: 40, arbitrary: recent }, { weight: 1, arbitrary: farOff }, { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => JSON.stringify(x)) }), { minLength: n, maxLength: n }),
    kinds: fc.array(fc.constantFrom('state', 'detections', 'instruction', 'session-start', 'session-end', 'error'), { minLength: n, maxLength: n }),
    payloads: fc.array(validPayloadText, { minLength: n, maxLength: n }),
    extra: fc.constant(''),
  }),
);

const events: fc.Arbitrary<MessageDesc> = fc.integer({ min: 1, max: 6 }).chain((n) =>
  fc.record({
    k: fc.constant('events' as const),
    session: greetedRef,
    from: fc.integer({ min: -3, max: 2 }),
    seqs: fc.array(fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -2, max: 3 }) }, { weight: 1, arbitrary: fc.constantFrom('"1"', '1.5', '-1', '0', '1e3', '9007199254740993', 'null') }), { minLength: n, maxLength: n }),
    ts: fc.array(fc.oneof({ weight: 20, arbitrary: recent }, { weight: 1, arbitrary: farOff }, { weight: 2, arbitrary: numberText }, { weight: 1, arbitrary: fc.constantFrom('"now"', 'null', '[]') }), { minLength: n, maxLength: n }),
    kinds: fc.array(fc.oneof({ weight: 20, arbitrary: fc.constantFrom('state', 'detections', 'instruction', 'session-start', 'session-end', 'error') }, { weight: 1, arbitrary: fc.constantFrom('rm -rf', 'STATE', '', 'state\u0000') }), { minLength: n, maxLength: n }),
    payloads: fc.array(payloadText, { minLength: n, maxLength: n }),
    extra: extraField,
  }),
);

const raw: fc.Arbitrary<MessageDesc> = fc
  .oneof(
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.json({ maxDepth: 5 }),
    fc.integer({ min: 1, max: 8000 }).map((d) => nested(d, '')),
    fc.integer({ min: 1, max: 3000 }).map((d) => '{"a":'.repeat(d) + '1' + '}'.repeat(d)),
    fc.integer({ min: 4990, max: 5010 }).map((d) => `{"type":"events","sessionId":"deep-nesting","events":[{"seq":1,"ts":1,"kind":"state","payload":${nested(d, '')}}]}`),
    fc.integer({ min: LIMITS.maxMessageBytes - 64, max: LIMITS.maxMessageBytes + 4096 }).map((n) => `{"type":"hello","sessionId":"huge-message","token":"${'t'.repeat(n)}"}`),
    fc.constantFrom('', ' ', 'null', '[]', '{}', '"hello"', '{"type":"hello"}', '{"type":"events"}', '{"type":"welcome","sessionId":"abcdefgh","ackedSeq":1}', '{"type":"ack","sessionId":"abcdefgh","seq":99}', '\u0000', '\ud800'),
  )
  .map((text) => ({ k: 'raw' as const, text }));

const edit = fc.tuple(fc.nat(), fc.integer({ min: 0, max: 3 }), fc.constantFrom('', '{', '}', '[', ']', '"', ',', ':', '\\', '\u0000', '\ud800', 'a', '1', '-', 'e', ' '));

export const messageDesc: fc.Arbitrary<MessageDesc> = fc.oneof(
  { weight: 5, arbitrary: hello },
  { weight: 10, arbitrary: cleanEvents },
  { weight: 4, arbitrary: events },
  { weight: 3, arbitrary: raw },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('mutate' as const), base: fc.oneof(hello, events), edits: fc.array(edit, { minLength: 1, maxLength: 3 }) }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ k: 'binary' as const, bytes })) },
);

/** What rendering needs to know about the world at that moment. */
export interface RenderContext {
  /** Resolves every pool but `greeted`, which render() resolves from `greeted` below. */
  sessionId(ref: SessionRef): string;
  /** Sessions the socket this message goes to has greeted, in order. */
  greeted(): readonly string[];
  token(ref: TokenRef, random: string): string;
  /** The next sequence number the model expects in this session. */
  nextSeq(sessionId: string): number;
  /** The server's clock, which event times are generated around. */
  now(): number;
}

function sessionOf(ref: SessionRef, ctx: RenderContext): string {
  if (ref.pool !== 'greeted') return ctx.sessionId(ref);
  const greeted = ctx.greeted();
  return greeted.length ? greeted[ref.i % greeted.length]! : ctx.sessionId({ pool: 'run', i: 0 });
}

export function render(d: MessageDesc, ctx: RenderContext): string | Uint8Array {
  switch (d.k) {
    case 'hello':
      return `{"type":"hello","sessionId":${JSON.stringify(sessionOf(d.session, ctx))},"token":${JSON.stringify(ctx.token(d.token, d.randomToken))}${d.extra}}`;
    case 'events': {
      const sessionId = sessionOf(d.session, ctx);
      const start = ctx.nextSeq(sessionId) + d.from;
      const evs = d.seqs.map((s, i) => {
        const seq = typeof s === 'number' ? String(start + i + s) : s;
        const t = d.ts[i];
        return `{"seq":${seq},"ts":${typeof t === 'number' ? ctx.now() + t : t},"kind":${JSON.stringify(d.kinds[i])},"payload":${d.payloads[i]}${i === 0 ? d.extra : ''}}`;
      });
      return `{"type":"events","sessionId":${JSON.stringify(sessionId)},"events":[${evs.join(',')}]}`;
    }
    case 'raw':
      return d.text;
    case 'mutate': {
      const base = render(d.base, ctx);
      if (typeof base !== 'string') return base;
      let text: string = base;
      for (const [at, del, ins] of d.edits) {
        const i: number = text.length ? at % text.length : 0;
        text = text.slice(0, i) + ins + text.slice(i + del);
      }
      return text;
    }
    case 'binary':
      return d.bytes;
  }
}
