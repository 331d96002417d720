// A model's class names, from the two places a person's model can carry them: the ONNX file's
// own metadata (Ultralytics writes `names` there) or a labels file given beside it. Pure: runs
// on the page, in a worker or in Node, and every refusal is one sentence a person can act on.
// The CommonJS module as a whole: Node's ESM loader (the e2e tests import this file) sees no named exports in it.
import protobuf from 'protobufjs/minimal.js';
import { parse as parseYaml } from 'yaml';

/** Refused class names: the message says what is wrong and where. */
export class ClassNamesError extends Error {}

const { Reader } = protobuf;

/** Class names and where they came from, in words ("the labels file "parts.txt""), for messages. */
export interface ClassNames {
  readonly labels: readonly string[];
  readonly from: string;
}

/** Far above any real detector (LVIS has 1,203 classes), low enough that a wrong file is caught before it is shown. */
export const MAX_CLASSES = 10_000;
/** A label is shown on a box and spoken: a paragraph is not a label. */
export const MAX_LABEL_LENGTH = 100;
/** A labels file of MAX_CLASSES long names fits well inside this. */
export const MAX_LABELS_FILE_BYTES = 1024 * 1024;
/** The same bound for the `names` entry in a model's metadata. */
const MAX_METADATA_VALUE_BYTES = MAX_LABELS_FILE_BYTES;

// ---- the ONNX file's metadata ----

/** ModelProto.metadata_props (onnx/onnx.proto), a repeated StringStringEntryProto{key = 1, value = 2}. */
const MODEL_METADATA_PROPS = 14;
const ENTRY_KEY = 1;
const ENTRY_VALUE = 2;
const LENGTH_DELIMITED = 2;

/**
 * The top-level `metadata_props` of an ONNX ModelProto, read without decoding anything else:
 * the graph and its weights (nearly all of the file) are skipped by their length prefix, so
 * this costs microseconds even for a large model. Refuses a file that is not a well-formed
 * protobuf at the top level (truncated, or a length running past the end).
 */
export function readOnnxMetadata(bytes: Uint8Array, name: string): Map<string, string> {
  const props = new Map<string, string>();
  const reader = Reader.create(bytes);
  try {
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      const field = tag >>> 3;
      const wire = tag & 7;
      if (field === MODEL_METADATA_PROPS && wire === LENGTH_DELIMITED) {
        const [key, value] = readEntry(reader.bytes(), name);
        props.set(key, value);
      } else {
        reader.skipType(wire);
      }
    }
  } catch (err) {
    if (err instanceof ClassNamesError) throw err;
    throw new ClassNamesError(`${name} is not a complete ONNX model: its protobuf breaks off or is malformed at byte ${reader.pos} of ${bytes.byteLength} (${err instanceof Error ? err.message : String(err)})`);
  }
  return props;
}

function readEntry(bytes: Uint8Array, name: string): [string, string] {
  const r = Reader.create(bytes);
  let key = '';
  let value = '';
  while (r.pos < r.len) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if ((field === ENTRY_KEY || field === ENTRY_VALUE) && (tag & 7) === LENGTH_DELIMITED) {
      // The length is looked at before the text is decoded: a hostile file may claim a huge one.
      const start = r.pos;
      const length = r.uint32();
      if (length > MAX_METADATA_VALUE_BYTES) throw new ClassNamesError(`${name}'s metadata has an entry of ${length} bytes; at most ${MAX_METADATA_VALUE_BYTES} are read`);
      r.pos = start;
      const text = r.string();
      if (field === ENTRY_KEY) key = text;
      else value = text;
    } else {
      r.skipType(tag & 7);
    }
  }
  return [key, value];
}

/**
 * The class names an exporter wrote into the model, or undefined when it wrote none.
 * Ultralytics writes `names` as a Python dict literal, `{0: 'torque wrench', 1: 'bolt'}`,
 * which is also a YAML flow mapping, so a YAML parser reads it without running anything.
 */
export function classNamesFromOnnx(bytes: Uint8Array, name: string): ClassNames | undefined {
  const names = readOnnxMetadata(bytes, name).get('names');
  if (names === undefined) return undefined;
  const from = `the model's metadata (names)`;
  return { labels: namesFromValue(parseYamlText(names, from), from, false), from };
}

// ---- a labels file ----

export type LabelsFileFormat = 'lines' | 'json' | 'yaml';

/** By extension, else by content: `{`/`[` opens JSON, a `names:` line is YAML, anything else is one name per line. */
export function labelsFileFormat(fileName: string, text: string): LabelsFileFormat {
  const ext = /\.([a-z0-9]+)$/i.exec(fileName)?.[1]?.toLowerCase();
  if (ext === 'json') return 'json';
  if (ext === 'yaml' || ext === 'yml') return 'yaml';
  if (ext === 'txt' || ext === 'names' || ext === 'labels') return 'lines';
  const head = text.trimStart();
  if (head.startsWith('{') || head.startsWith('[')) return 'json';
  if (/^names\s*:/m.test(text)) return 'yaml';
  return 'lines';
}

/** The size is checked before the file is read at all: a wrong file picked by mistake may be huge. */
export function checkLabelsFileSize(fileName: string, size: number): void {
  if (size > MAX_LABELS_FILE_BYTES) throw new ClassNamesError(`the labels file "${fileName}" is ${formatBytes(size)}; a labels file is at most ${formatBytes(MAX_LABELS_FILE_BYTES)}`);
}

/**
 * A labels file: one name per line, JSON (a list, an index → name map, or `{"names": …}`), or
 * YAML with `names` as a list or an index → name map (the Ultralytics data.yaml).
 */
export function parseLabelsFile(fileName: string, text: string): ClassNames {
  checkLabelsFileSize(fileName, new TextEncoder().encode(text).byteLength);
  const from = `the labels file "${fileName}"`;
  const format = labelsFileFormat(fileName, text);
  switch (format) {
    case 'lines':
      return { labels: namesFromLines(text, from), from };
    case 'json': {
      let data: unknown;
      try {
        data = JSON.parse(text);
      } catch (err) {
        throw new ClassNamesError(`${from} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
      }
      return { labels: namesFromValue(data, from, true), from };
    }
    case 'yaml':
      return { labels: namesFromValue(parseYamlText(text, from), from, true), from };
    default:
      return format satisfies never;
  }
}

function namesFromLines(text: string, from: string): string[] {
  // A final newline (or several, or a stray \r from Windows) is not a class; a blank line between names is.
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  return checkNames(lines.map((l) => l.trim()), from, (i) => `line ${i + 1}`);
}

function parseYamlText(text: string, from: string): unknown {
  try {
    // Plain data only: no custom tags, no aliases blown up into a billion entries.
    return parseYaml(text, { schema: 'core', maxAliasCount: 0, uniqueKeys: true });
  } catch (err) {
    throw new ClassNamesError(`${from} cannot be read as YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
}

/**
 * A list of names, or an index → name map whose keys are exactly 0 … n − 1 (in any order).
 * A labels file may also wrap either in `{names: …}`; a model's metadata value may not.
 */
function namesFromValue(data: unknown, from: string, wrapped: boolean): string[] {
  if (wrapped && isRecord(data) && 'names' in data) data = data.names;
  if (Array.isArray(data)) {
    data.forEach((n, i) => {
      if (typeof n !== 'string') throw new ClassNamesError(`${from}: class ${i} is ${describe(n)}, not a name`);
    });
    return checkNames(data as string[], from, (i) => `class ${i}`);
  }
  if (!isRecord(data)) throw new ClassNamesError(`${from} holds ${describe(data)}, not class names (a list, or a map from class index to name${wrapped ? ', or either under "names"' : ''})`);
  const entries = Object.entries(data);
  if (entries.length > MAX_CLASSES) throw new ClassNamesError(`${from} names ${entries.length} classes; at most ${MAX_CLASSES} are accepted`);
  const names: string[] = new Array<string>(entries.length);
  for (const [key, value] of entries) {
    const index = /^(0|[1-9]\d*)$/.test(key) ? Number(key) : NaN;
    if (!(index < entries.length)) throw new ClassNamesError(`${from}: "${key}" is not a class index from 0 to ${entries.length - 1} (a map must number its ${entries.length} classes 0, 1, 2, …)`);
    if (typeof value !== 'string') throw new ClassNamesError(`${from}: class ${index} is ${describe(value)}, not a name`);
    names[index] = value;
  }
  return checkNames(names, from, (i) => `class ${i}`);
}

/** Every name present, short, and unique: two classes with one name could never be told apart in a task. */
function checkNames(raw: readonly string[], from: string, where: (i: number) => string): string[] {
  if (raw.length === 0) throw new ClassNamesError(`${from} names no classes`);
  if (raw.length > MAX_CLASSES) throw new ClassNamesError(`${from} names ${raw.length} classes; at most ${MAX_CLASSES} are accepted`);
  const seen = new Map<string, number>();
  return raw.map((n, i) => {
    const name = n.trim();
    if (name === '') throw new ClassNamesError(`${from}: ${where(i)} has an empty name`);
    if (name.length > MAX_LABEL_LENGTH) throw new ClassNamesError(`${from}: ${where(i)}'s name is ${name.length} characters long; a label is at most ${MAX_LABEL_LENGTH}`);
    if (/[\u0000-\u001f\u007f]/.test(name)) throw new ClassNamesError(`${from}: ${where(i)}'s name ${JSON.stringify(name)} contains a control character`);
    const twin = seen.get(name);
    if (twin !== undefined) throw new ClassNamesError(`${from} names "${name}" twice (${where(twin)} and ${where(i)}); each class needs its own name`);
    seen.set(name, i);
    return name;
  });
}

// ---- which names a model gets ----

/** The words for a model that names no classes and is given no labels file. */
export function defaultClassNames(labels: readonly string[]): ClassNames {
  return { labels, from: `the list of COCO's ${labels.length} class names, assumed since the model names no classes and no labels file was given,` };
}

/** A labels file the person gave wins over the model's own names: it is the later, deliberate choice. */
export function chooseClassNames(file: ClassNames | undefined, metadata: ClassNames | undefined, fallback: ClassNames): ClassNames {
  return file ?? metadata ?? fallback;
}

/**
 * The output's class count does not match the names: one sentence naming both numbers, e.g.
 * `the labels file "parts.txt" names 3 classes but the model's output has 2`.
 */
export function classCountMismatch(from: string, named: number, output: number | string): string {
  return `${from} names ${named} ${named === 1 ? 'class' : 'classes'} but the model's output has ${output}`;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'empty';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  const text = JSON.stringify(v);
  return `${typeof v === 'string' ? 'the text' : `the ${typeof v}`} ${text.length > 40 ? `${text.slice(0, 40)}…` : text}`;
}

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(0)} KiB` : `${n} bytes`;
}
