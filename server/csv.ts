// CSV exports (RFC 4180, CRLF): the column lists are declared in src/sync/protocol.ts; each row
// is built as a record of every column, so a column added there cannot be left out here.
import { SESSION_CSV_COLUMNS, TIMELINE_CSV_COLUMNS, type Derailment, type GivenInstruction, type SessionCsvColumn, type SessionSummary, type SessionTimeline, type TimelineCsvColumn, type TimelineStep } from '../src/sync/trainer-api';

export type Cell = string | number | boolean | null;

/**
 * One cell. Text that a spreadsheet would run as a formula (starting with = + - @, or a tab or
 * carriage return that some strip before looking) gets a leading apostrophe; text holding a
 * comma, a quote or a line break is quoted, its quotes doubled.
 */
export function csvCell(value: Cell): string {
  if (value === null) return '';
  if (typeof value !== 'string') return String(value);
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export const csvLine = (cells: readonly Cell[]) => `${cells.map(csvCell).join(',')}\r\n`;

export function csvRows<C extends string>(columns: readonly C[], rows: readonly Record<C, Cell>[]): string {
  return csvLine(columns) + rows.map((r) => csvLine(columns.map((c) => r[c]))).join('');
}

/** ISO 8601 UTC; a time no Date can hold stays a number rather than failing the export. */
export const isoTime = (ts: number | null): Cell => (ts === null ? null : Math.abs(ts) <= 8.64e15 ? new Date(ts).toISOString() : ts);

export function sessionCsvRow(s: SessionSummary): Record<SessionCsvColumn, Cell> {
  return {
    session_id: s.sessionId,
    device_id: s.deviceId,
    device_name: s.deviceName,
    task_id: s.taskId,
    task_title: s.taskTitle,
    started: isoTime(s.startedTs),
    ended: isoTime(s.endedTs),
    duration_ms: s.durationMs,
    outcome: s.outcome,
    steps_done: s.stepsDone,
    steps_total: s.stepsTotal,
    derailments: s.derailments,
    live: s.live,
    events: s.events,
  };
}

export const sessionsCsvHeader = () => csvLine(SESSION_CSV_COLUMNS);
export function sessionCsvLine(s: SessionSummary): string {
  const row = sessionCsvRow(s);
  return csvLine(SESSION_CSV_COLUMNS.map((c) => row[c]));
}

type TimelineCsvRow = Record<TimelineCsvColumn, Cell>;
type StepBase = Pick<TimelineCsvRow, 'session_id' | 'step' | 'step_instruction'>;

const stepBase = (sessionId: string, step: Pick<TimelineStep, 'index' | 'instruction'>): StepBase => ({ session_id: sessionId, step: step.index + 1, step_instruction: step.instruction });
const stepCsvRow = (base: StepBase, step: Pick<TimelineStep, 'status' | 'completedBy' | 'startedTs' | 'completedTs' | 'durationMs'>): TimelineCsvRow => ({
  ...base,
  row: 'step',
  status: step.status,
  completed_by: step.completedBy,
  start: isoTime(step.startedTs),
  end: isoTime(step.completedTs),
  duration_ms: step.durationMs,
  text: null,
});
// Each row a literal of every column (no spread): the exports write tens of thousands of them.
const derailmentCsvRow = (base: StepBase, d: Derailment): TimelineCsvRow => ({ session_id: base.session_id, step: base.step, step_instruction: base.step_instruction, row: 'derailment', status: d.ongoing ? 'ongoing' : null, completed_by: null, start: isoTime(d.startTs), end: isoTime(d.endTs), duration_ms: d.durationMs, text: d.reason });
const instructionCsvRow = (base: StepBase, i: GivenInstruction): TimelineCsvRow => ({ session_id: base.session_id, step: base.step, step_instruction: base.step_instruction, row: 'instruction', status: null, completed_by: null, start: isoTime(i.ts), end: null, duration_ms: null, text: i.text });
const timelineCsvLine = (row: TimelineCsvRow) => csvLine(TIMELINE_CSV_COLUMNS.map((c) => row[c]));

/** A whole timeline's rows: each step's row, then its derailments' and instructions' rows in time order. The streamed export (timeline-pages.ts) writes the same lines a page at a time. */
export function timelineCsvRows(t: SessionTimeline): TimelineCsvRow[] {
  const rows: TimelineCsvRow[] = [];
  for (const step of t.steps) {
    const base = stepBase(t.session.sessionId, step);
    rows.push(stepCsvRow(base, step));
    const within = [...step.derailments.map((d) => ({ ts: d.startTs, row: derailmentCsvRow(base, d) })), ...step.instructions.map((i) => ({ ts: i.ts, row: instructionCsvRow(base, i) }))];
    // Stable: at equal times a derailment comes before the instruction given for it.
    rows.push(...within.sort((a, b) => a.ts - b.ts).map((w) => w.row));
  }
  return rows;
}

export const timelineCsv = (t: SessionTimeline) => csvRows(TIMELINE_CSV_COLUMNS, timelineCsvRows(t));

/** The streamed export's lines: the header, a step's row, one derailment's or instruction's row. */
export const timelineCsvHeader = () => csvLine(TIMELINE_CSV_COLUMNS);
export const stepCsvLine = (sessionId: string, step: Pick<TimelineStep, 'index' | 'instruction' | 'status' | 'completedBy' | 'startedTs' | 'completedTs' | 'durationMs'>) => timelineCsvLine(stepCsvRow(stepBase(sessionId, step), step));
export const derailmentCsvLine = (sessionId: string, step: Pick<TimelineStep, 'index' | 'instruction'>, d: Derailment) => timelineCsvLine(derailmentCsvRow(stepBase(sessionId, step), d));
export const instructionCsvLine = (sessionId: string, step: Pick<TimelineStep, 'index' | 'instruction'>, i: GivenInstruction) => timelineCsvLine(instructionCsvRow(stepBase(sessionId, step), i));
