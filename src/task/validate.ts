import { REGION_NAMES, RELATION_KINDS, STEP_KINDS, type Task } from './types';

const RELATIONS: readonly string[] = RELATION_KINDS;
const REGIONS: readonly string[] = REGION_NAMES;
const KINDS: readonly string[] = STEP_KINDS;
/** A wait longer than an hour is not a step a person stands through. */
const MAX_WAIT_MS = 3_600_000;
/** A BCP 47 language tag, as far as speech needs one: language, then optional script/region parts. */
const LANG = /^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/;

export interface TaskProblem {
  readonly path: string;
  readonly message: string;
}

/** Every problem in a task, each with the path of the offending field; empty when the task is valid. */
export function validateTask(input: unknown, labels: readonly string[]): TaskProblem[] {
  const problems: TaskProblem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const str = (v: unknown, path: string, required = true) => {
    if (v === undefined && !required) return;
    if (typeof v !== 'string' || v.trim() === '') add(path, v === undefined ? 'is required' : `must be a non-empty string, got ${JSON.stringify(v)}`);
  };
  const num = (v: unknown, path: string, min: number, max: number, integer = false) => {
    if (v === undefined) return;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
      add(path, `must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(v)}`);
    }
  };
  const label = (v: unknown, path: string) => {
    if (typeof v !== 'string' || v === '') return add(path, v === undefined ? 'is required' : `must be a label, got ${JSON.stringify(v)}`);
    if (labels.includes(v)) return;
    const guess = closest(v, labels);
    add(path, `"${v}" is not a known label${guess ? ` — did you mean "${guess}"?` : ''}`);
  };
  const didYouMean = (v: string, candidates: readonly string[]) => {
    const guess = closest(v, candidates);
    return guess ? ` — did you mean "${guess}"?` : '';
  };
  const unknownKeys = (o: Record<string, unknown>, allowed: string[], path: string, what = 'here') => {
    for (const k of Object.keys(o)) if (!allowed.includes(k)) add(path ? `${path}.${k}` : k, `is not a field ${what}${didYouMean(k, allowed)} (expected one of ${allowed.join(', ')})`);
  };
  const stepList = (v: unknown, path: string, stepCount: number) => {
    if (v === undefined) return;
    if (!Array.isArray(v)) return add(path, 'must be a list of step indices');
    v.forEach((s, i) => num(s, `${path}[${i}]`, 0, Math.max(0, stepCount - 1), true));
  };
  const region = (v: unknown, path: string) => {
    if (typeof v === 'string') {
      if (!REGIONS.includes(v)) add(path, `"${v}" is not a region${didYouMean(v, REGIONS)} (one of ${REGIONS.join(', ')}, or {x, y, w, h} in 0–1)`);
      return;
    }
    if (!isObj(v)) return add(path, 'must be a region name or {x, y, w, h}');
    for (const k of ['x', 'y', 'w', 'h']) {
      if (v[k] === undefined) add(`${path}.${k}`, 'is required');
      else num(v[k], `${path}.${k}`, 0, 1);
    }
  };

  if (!isObj(input)) return [{ path: '', message: 'a task must be a JSON object' }];
  const t = input;
  unknownKeys(t, ['id', 'title', 'description', 'lang', 'steps', 'derail'], '');
  str(t.id, 'id');
  if (t.lang !== undefined && (typeof t.lang !== 'string' || !LANG.test(t.lang))) add('lang', `must be a language tag such as "en" or "de-DE", got ${JSON.stringify(t.lang)}`);
  str(t.title, 'title');
  str(t.description, 'description', false);
  if (!Array.isArray(t.steps) || t.steps.length === 0) {
    add('steps', 'must be a list of at least one step');
  } else {
    const n = t.steps.length;
    t.steps.forEach((s: unknown, i: number) => {
      const p = `steps[${i}]`;
      if (!isObj(s)) return add(p, 'must be an object');
      const kind = s.kind ?? 'see';
      if (typeof kind !== 'string' || !KINDS.includes(kind)) {
        add(`${p}.kind`, `must be one of ${KINDS.join(', ')}${typeof kind === 'string' ? didYouMean(kind, KINDS) : ''}, got ${JSON.stringify(kind)}`);
        return;
      }
      str(s.instruction, `${p}.instruction`);
      if (kind === 'confirm') return unknownKeys(s, ['kind', 'instruction'], p, 'of a confirm step');
      if (kind === 'wait') {
        unknownKeys(s, ['kind', 'instruction', 'durationMs'], p, 'of a wait step');
        if (s.durationMs === undefined) add(`${p}.durationMs`, 'is required: how long to wait, in milliseconds');
        else num(s.durationMs, `${p}.durationMs`, 1, MAX_WAIT_MS);
        return;
      }
      unknownKeys(s, ['kind', 'instruction', 'require', 'relations', 'holdMs'], p);
      num(s.holdMs, `${p}.holdMs`, 0, 600_000);
      /** Labels a requirement allows none of (maxCount 0): no relation can hold for them. */
      const none = new Set<unknown>();
      if (!Array.isArray(s.require) || s.require.length === 0) add(`${p}.require`, 'must list at least one required object');
      else
        s.require.forEach((r: unknown, j: number) => {
          const rp = `${p}.require[${j}]`;
          if (!isObj(r)) return add(rp, 'must be an object');
          unknownKeys(r, ['label', 'minCount', 'maxCount', 'minScore', 'region'], rp);
          label(r.label, `${rp}.label`);
          num(r.minCount, `${rp}.minCount`, 1, 100, true);
          num(r.maxCount, `${rp}.maxCount`, 0, 100, true);
          num(r.minScore, `${rp}.minScore`, 0, 1);
          if (r.region !== undefined) region(r.region, `${rp}.region`);
          if (typeof r.minCount === 'number' && typeof r.maxCount === 'number' && r.maxCount < r.minCount) {
            add(`${rp}.maxCount`, `must be at least ${rp}.minCount (${r.minCount}), got ${r.maxCount}`);
          }
          if (r.maxCount === 0) none.add(r.label);
        });
      if (s.relations !== undefined && !Array.isArray(s.relations)) add(`${p}.relations`, 'must be a list');
      const required = Array.isArray(s.require) ? s.require.map((r: unknown) => (isObj(r) ? r.label : undefined)) : [];
      (Array.isArray(s.relations) ? s.relations : []).forEach((r: unknown, j: number) => {
        const rp = `${p}.relations[${j}]`;
        if (!isObj(r)) return add(rp, 'must be an object');
        label(r.subject, `${rp}.subject`);
        if (typeof r.relation !== 'string' || !RELATIONS.includes(r.relation)) {
          add(`${rp}.relation`, `must be one of ${RELATIONS.join(', ')}${typeof r.relation === 'string' ? didYouMean(r.relation, RELATIONS) : ''}, got ${JSON.stringify(r.relation)}`);
          return;
        }
        if (r.relation === 'inside') {
          unknownKeys(r, ['subject', 'relation', 'region'], rp);
          region(r.region, `${rp}.region`);
        } else {
          unknownKeys(r, ['subject', 'relation', 'object', 'region'], rp);
          label(r.object, `${rp}.object`);
          if (r.region !== undefined) region(r.region, `${rp}.region`);
          if (none.has(r.object)) add(`${rp}.object`, `"${String(r.object)}" cannot be related: ${p}.require allows none in view (maxCount 0)`);
          if (typeof r.object === 'string' && labels.includes(r.object) && !required.includes(r.object)) add(`${rp}.object`, `"${r.object}" must also be listed in ${p}.require`);
        }
        if (typeof r.subject === 'string' && labels.includes(r.subject) && !required.includes(r.subject)) add(`${rp}.subject`, `"${r.subject}" must also be listed in ${p}.require`);
        if (none.has(r.subject)) add(`${rp}.subject`, `"${String(r.subject)}" cannot be related: ${p}.require allows none in view (maxCount 0)`);
      });
    });
    if (t.derail !== undefined && !Array.isArray(t.derail)) add('derail', 'must be a list');
    (Array.isArray(t.derail) ? t.derail : []).forEach((d: unknown, i: number) => {
      const p = `derail[${i}]`;
      if (!isObj(d)) return add(p, 'must be an object');
      if (d.kind === 'must-stay') {
        unknownKeys(d, ['kind', 'label', 'maxAbsentMs', 'steps'], p);
        num(d.maxAbsentMs, `${p}.maxAbsentMs`, 0, 600_000);
      } else if (d.kind === 'forbidden') {
        unknownKeys(d, ['kind', 'label', 'minScore', 'minMs', 'steps'], p);
        num(d.minScore, `${p}.minScore`, 0, 1);
        num(d.minMs, `${p}.minMs`, 0, 600_000);
      } else {
        return add(`${p}.kind`, `must be "must-stay" or "forbidden"${typeof d.kind === 'string' ? didYouMean(d.kind, ['must-stay', 'forbidden']) : ''}, got ${JSON.stringify(d.kind)}`);
      }
      label(d.label, `${p}.label`);
      stepList(d.steps, `${p}.steps`, n);
    });
  }
  return problems;
}

/** Parses and validates; throws a TaskError listing every problem. */
export function parseTask(json: string, labels: readonly string[]): Task {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (err) {
    throw new TaskError([{ path: '', message: `not valid JSON: ${err instanceof Error ? err.message : String(err)}` }]);
  }
  const problems = validateTask(data, labels);
  if (problems.length > 0) throw new TaskError(problems);
  return data as Task;
}

export class TaskError extends Error {
  constructor(readonly problems: readonly TaskProblem[]) {
    super(problems.map(formatProblem).join('\n'));
  }
}

export function formatProblem(p: TaskProblem): string {
  return p.path ? `${p.path}: ${p.message}` : p.message;
}

/** The nearest label by edit distance, if it is near enough to be a likely typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c);
    if (d < bestD) [best, bestD] = [c, d];
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}
