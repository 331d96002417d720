// JSON from the network, read within bounds: its size and nesting are checked on the raw text
// before it is parsed, so no input can make parsing or re-serialising throw.
import * as v from 'valibot';

/** Deepest nesting of arrays and objects any message may have. */
export const MAX_JSON_DEPTH = 32;

/** No lone surrogates (String.prototype.isWellFormed, without needing ES2024 in every runtime). */
export function wellFormed(s: string): boolean {
  return !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}

const utf8 = new TextEncoder();
/** The size of a value as UTF-8 JSON: what the limits count. Only call it on values of bounded depth. */
export function jsonBytes(value: unknown): number {
  return utf8.encode(JSON.stringify(value) ?? '').length;
}

/** The deepest nesting of arrays and objects in JSON text, found in one pass without parsing; stops early past `limit`. */
export function jsonDepth(text: string, limit: number = MAX_JSON_DEPTH): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max && (max = depth) > limit) return max;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

export type Parsed<T> = { readonly ok: true; readonly msg: T } | { readonly ok: false; readonly reason: string };

/**
 * Bounded parse: size and depth are checked on the raw text before JSON.parse, so no input
 * can make parsing or re-serialising throw; then the schema. Never throws.
 */
export function parseBounded<T>(schema: v.GenericSchema<unknown, T>, raw: string, maxBytes: number): Parsed<T> {
  try {
    // Characters are at most bytes, and a UTF-8 byte count is at most 3 per UTF-16 unit: encode only when it can matter.
    if (raw.length > maxBytes || (raw.length * 3 > maxBytes && utf8.encode(raw).length > maxBytes)) return { ok: false, reason: `over ${maxBytes} bytes` };
    if (jsonDepth(raw) > MAX_JSON_DEPTH) return { ok: false, reason: `nested deeper than ${MAX_JSON_DEPTH}` };
    let data: unknown;
    try {
      data = JSON.parse(raw);
    } catch {
      return { ok: false, reason: 'not JSON' };
    }
    const result = v.safeParse(schema, data, { abortEarly: true });
    if (result.success) return { ok: true, msg: result.output };
    const issue = result.issues[0];
    const path = issue.path?.map((p) => String(p.key)).join('.') ?? '';
    return { ok: false, reason: `${path ? `${path}: ` : ''}${issue.message}`.slice(0, 120) };
  } catch (err) {
    return { ok: false, reason: `unparseable (${err instanceof Error ? err.name : 'error'})` };
  }
}

