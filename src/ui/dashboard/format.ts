// How the trainer's view writes times, durations and states. Pure: the elements only place the text.
import type { Outcome, StepStatus } from '../../sync/trainer-api';
import type { StepEnding } from '../../task/types';

/** Labels for the protocol's outcomes: keyed by its type, so a new outcome fails to compile here. */
export const OUTCOME_LABELS: Readonly<Record<Outcome, string>> = { completed: 'Completed', abandoned: 'Abandoned', 'in-progress': 'In progress' };

/** How a completed step ended, in the trainer's words. */
export const STEP_ENDING_LABELS: Readonly<Record<StepEnding, string>> = {
  seen: 'seen by the camera',
  confirmed: 'confirmed by the person',
  waited: 'waited out',
  skipped: 'skipped by the person',
};

export const STEP_STATUS_LABELS: Readonly<Record<StepStatus, string>> = {
  'done-earlier': 'Done earlier',
  completed: 'Completed',
  started: 'Started',
  'not-reached': 'Not reached',
};

const pad2 = (n: number) => String(n).padStart(2, '0');

/**
 * A duration as a person reads it: tenths of a second below a minute (steps take seconds, and
 * the difference between 4.2 s and 4.8 s matters to a trainer), then minutes and seconds, then
 * hours and minutes. Null (unknown) is a dash.
 */
export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '–';
  const sign = ms < 0 ? '−' : '';
  const abs = Math.abs(ms);
  // Rounded once, at the precision shown, so that 59.96 s reads "1 min 00 s", not "60.0 s".
  if (Math.round(abs / 100) < 600) return `${sign}${(Math.round(abs / 100) / 10).toFixed(1)} s`;
  const s = Math.round(abs / 1000);
  if (s < 3600) return `${sign}${Math.floor(s / 60)} min ${pad2(s % 60)} s`;
  const m = Math.round(abs / 60_000);
  return `${sign}${Math.floor(m / 60)} h ${pad2(m % 60)} min`;
}

/** The same duration as an HTML `<time datetime>` value (ISO 8601, millisecond precision), for machines and assistive tools. */
export function isoDuration(ms: number): string {
  if (!Number.isFinite(ms) || Math.abs(ms) > Number.MAX_SAFE_INTEGER) return 'PT0S';
  const whole = Math.max(0, Math.round(ms));
  const s = Math.floor(whole / 1000);
  const frac = whole % 1000;
  return `PT${s}${frac ? `.${String(frac).padStart(3, '0')}` : ''}S`;
}

// One formatter each, made once: toLocaleTimeString with options builds a new one per call,
// which made a 1,000-row table take seconds.
const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const day = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });

/** The widest time a Date holds (±100,000,000 days from 1970): past it, formatting throws "Invalid time value". */
const MAX_DATE_MS = 8.64e15;

/**
 * Whether a stored time is a date that can be shown. A device's clock can be anything, and what
 * was stored before the server judged times (a verdict at ts = 1e16, say) is still there: such a
 * time is shown as BAD_TIME, never formatted, so that one row cannot blank the list.
 */
export const isShowableTime = (ts: unknown): ts is number => typeof ts === 'number' && Number.isFinite(ts) && Math.abs(ts) <= MAX_DATE_MS;

/** What stands for a time that is not a date. */
export const BAD_TIME = 'bad time';

/** Why a time shows as BAD_TIME: for the placeholder's title. */
export const badTimeNote = (ts: unknown): string => `The device recorded ${typeof ts === 'number' ? `ts = ${ts}` : 'no usable time'}, which is not a date`;

/** A `<time datetime>` value (ISO 8601 UTC), or undefined for a time that is not a date. */
export const isoInstant = (ts: unknown): string | undefined => (isShowableTime(ts) ? new Date(ts).toISOString() : undefined);

/** A clock time on this device, to the second: steps are seconds apart. */
export const formatClock = (ts: number): string => (isShowableTime(ts) ? clock.format(ts) : BAD_TIME);

const sameDay = (a: Date, b: Date) => a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();

/** When a session started: the time alone today, with the date otherwise. */
export function formatStarted(ts: number, now: number = Date.now()): string {
  if (!isShowableTime(ts)) return BAD_TIME;
  return isShowableTime(now) && sameDay(new Date(ts), new Date(now)) ? clock.format(ts) : `${day.format(ts)} ${clock.format(ts)}`;
}

/** "2 / 4"; a custom task not completed yet has no known length. */
export const stepsText = (done: number, total: number | null): string => `${done} / ${total ?? '?'}`;

/** The offset of `ts` from the session's start, for the chart's axis and readout: "+12.4 s". */
export const offsetText = (ms: number): string => `+${formatDuration(Math.max(0, ms))}`;
