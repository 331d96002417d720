// A session's timeline read back from what the store keeps on write (server/sql-store.ts): the
// steps from the kept facts, each step's derailments and instructions from the timeline tables.
// Every read is bounded: a timeline carries the first items of each list (TIMELINE_LIST_FIRST,
// TIMELINE_ITEMS_FIRST in all), the rest come a page at a time, and the exports are written a
// page at a time, so that a session of 100,000 events costs no more memory than a small one.
// The pure fold over the events (timelineSteps in session-facts.ts) is what this must equal.
import {
  TIMELINE_ITEMS_FIRST,
  TIMELINE_LIST_FIRST,
  type Derailment,
  type DerailmentsPage,
  type ExportFormat,
  type GivenInstruction,
  type InstructionsPage,
  type SessionTimeline,
  type TimelineItemKind,
  type TimelineStep,
} from '../src/sync/trainer-api';
import { derailmentCsvLine, instructionCsvLine, stepCsvLine, timelineCsvHeader } from './csv';
import { endedDerailment, ongoingDerailment, stepInstructions, stepRow, timelineLength } from './session-facts';
import type { EventStore, TimeCursor, TimelineHead, TimelineItem, TimelineItemKind as StoredKind, TimelineListRead } from './store';

const derailmentOf = (it: TimelineItem): Derailment => endedDerailment({ step: it.step, reason: it.text, startTs: it.ts, endTs: it.endTs ?? it.ts });
const instructionOf = (it: TimelineItem): GivenInstruction => ({ ts: it.ts, text: it.text });
const STORED: Record<TimelineItemKind, StoredKind> = { derailments: 'derailment', instructions: 'instruction' };

/** What a head says about the timeline's rows: how many, each step's kept counts, the derailment still open. */
interface Layout {
  readonly head: TimelineHead;
  readonly rows: number;
  readonly instructions: readonly string[] | undefined;
  readonly stored: (step: number, kind: StoredKind) => number;
  readonly ongoing: Derailment | undefined;
  /** The last event the items are read up to: the summary's, so that both are of one instant. */
  readonly toSeq: number;
}

function layout(head: TimelineHead): Layout {
  const counts = new Map(head.lists.map((l) => [l.step, l]));
  const furthestGiven = head.lists.reduce((m, l) => (l.instructions > 0 ? Math.max(m, l.step) : m), -1);
  return {
    head,
    rows: timelineLength(head.facts, furthestGiven),
    instructions: stepInstructions(head.facts),
    stored: (step, kind) => (kind === 'derailment' ? (counts.get(step)?.derailments ?? 0) : (counts.get(step)?.instructions ?? 0)),
    ongoing: head.facts.derail ? ongoingDerailment(head.facts.derail, head.session.lastTs) : undefined,
    toSeq: head.session.lastSeq,
  };
}

const openOn = (l: Layout, step: number) => (l.ongoing?.step === step ? 1 : 0);

/**
 * A session's timeline with bounded lists: each list's first TIMELINE_LIST_FIRST items, all
 * lists together at most TIMELINE_ITEMS_FIRST (earlier steps first); a list cut short says how
 * many it holds and where the rest starts. Undefined when there is no such session.
 */
export async function loadTimeline(store: EventStore, sessionId: string, perList = TIMELINE_LIST_FIRST, inAll = TIMELINE_ITEMS_FIRST): Promise<SessionTimeline | undefined> {
  const head = await store.timelineHead(sessionId);
  if (!head) return undefined;
  const l = layout(head);
  let left = inAll;
  const plan: { step: number; derailments: number; instructions: number }[] = [];
  const reads: TimelineListRead[] = [];
  for (let step = 0; step < l.rows; step++) {
    // A derailment still open is the last of its step's list, and counts towards its bound.
    const derailments = Math.min(l.stored(step, 'derailment') + openOn(l, step), perList, left);
    left -= derailments;
    const instructions = Math.min(l.stored(step, 'instruction'), perList, left);
    left -= instructions;
    plan.push({ step, derailments, instructions });
    const closed = Math.min(derailments, l.stored(step, 'derailment'));
    if (closed) reads.push({ step, kind: 'derailment', afterSeq: 0, limit: closed });
    if (instructions) reads.push({ step, kind: 'instruction', afterSeq: 0, limit: instructions });
  }
  const items = await store.timelineItems(sessionId, reads, l.toSeq);
  const lists = new Map<string, TimelineItem[]>();
  for (const it of items) {
    const key = `${it.step}:${it.kind}`;
    const list = lists.get(key);
    if (list) list.push(it);
    else lists.set(key, [it]);
  }
  const steps = plan.map(({ step, derailments: wanted }): TimelineStep => {
    const closed = lists.get(`${step}:derailment`) ?? [];
    const given = lists.get(`${step}:instruction`) ?? [];
    const derailments = closed.map(derailmentOf);
    if (l.ongoing?.step === step && wanted > closed.length) derailments.push(l.ongoing);
    const derailmentsTotal = l.stored(step, 'derailment') + openOn(l, step);
    const instructionsTotal = l.stored(step, 'instruction');
    return {
      ...stepRow(head.facts, step, l.instructions),
      derailments,
      instructions: given.map(instructionOf),
      derailmentsTotal,
      derailmentsNext: derailments.length < derailmentsTotal ? String(closed.at(-1)?.seq ?? 0) : null,
      instructionsTotal,
      instructionsNext: given.length < instructionsTotal ? String(given.at(-1)?.seq ?? 0) : null,
    };
  });
  return { session: head.session, steps };
}

/** One page of one list of one step, after `after` (a `…Next`, or the previous page's `next`). Undefined when there is no such session. */
export async function timelineItemsPage(store: EventStore, sessionId: string, step: number, kind: 'derailments', after: number, limit: number): Promise<DerailmentsPage | undefined>;
export async function timelineItemsPage(store: EventStore, sessionId: string, step: number, kind: 'instructions', after: number, limit: number): Promise<InstructionsPage | undefined>;
export async function timelineItemsPage(store: EventStore, sessionId: string, step: number, kind: TimelineItemKind, after: number, limit: number): Promise<DerailmentsPage | InstructionsPage | undefined>;
export async function timelineItemsPage(store: EventStore, sessionId: string, step: number, kind: TimelineItemKind, after: number, limit: number): Promise<DerailmentsPage | InstructionsPage | undefined> {
  const head = await store.timelineHead(sessionId);
  if (!head) return undefined;
  const l = layout(head);
  const rows = await store.timelineItems(sessionId, [{ step, kind: STORED[kind], afterSeq: after, limit: limit + 1 }], l.toSeq);
  const page = rows.slice(0, limit);
  const cursor = String(page.at(-1)?.seq ?? after);
  if (kind === 'instructions') return { items: page.map(instructionOf), next: rows.length > limit ? cursor : null };
  const items = page.map(derailmentOf);
  if (rows.length > limit) return { items, next: cursor };
  // The derailment still open follows the ended ones: on this page if it has room, else alone on the next.
  if (l.ongoing?.step !== step) return { items, next: null };
  if (items.length < limit) return { items: [...items, l.ongoing], next: null };
  return { items, next: cursor };
}

/** Rows read at once by the exports. */
const EXPORT_PAGE = 1_000;

/**
 * A turn of the event loop between pages. SQLite's reads are synchronous on this thread and a
 * fast client never pushes back, so without it a whole export would run as one chain of
 * promises and every other request would wait for its end.
 */
export const breathe = () => new Promise<void>((r) => setImmediate(r));
/** CSV lines written between two turns of the event loop. */
const BREATHE_LINES = 200;

/** The session's timeline as export text, or undefined when there is no such session: read here, so that a missing one is a 404 before anything is sent. */
export async function sessionExport(store: EventStore, sessionId: string, format: ExportFormat, pageSize = EXPORT_PAGE): Promise<AsyncGenerator<string> | undefined> {
  const head = await store.timelineHead(sessionId);
  if (!head) return undefined;
  return format === 'csv' ? csvExport(store, layout(head), pageSize) : jsonExport(store, layout(head), pageSize);
}

/** One list of one step, whole, a page at a time. */
async function* listPages(store: EventStore, l: Layout, step: number, kind: StoredKind, pageSize: number): AsyncGenerator<TimelineItem[]> {
  if (l.stored(step, kind) === 0) return;
  let after = 0;
  for (;;) {
    const page = await store.timelineItems(l.head.session.sessionId, [{ step, kind, afterSeq: after, limit: pageSize }], l.toSeq);
    if (page.length) yield page;
    await breathe();
    if (page.length < pageSize) return;
    after = page.at(-1)!.seq;
  }
}

/** `{session, steps}`, every list whole: the text JSON.stringify gives for the whole timeline, written a page at a time. */
async function* jsonExport(store: EventStore, l: Layout, pageSize: number): AsyncGenerator<string> {
  const { session, facts } = l.head;
  yield `{"session":${JSON.stringify(session)},"steps":[`;
  for (let step = 0; step < l.rows; step++) {
    const row = JSON.stringify(stepRow(facts, step, l.instructions));
    yield `${step ? ',' : ''}${row.slice(0, -1)},"derailments":[`;
    let first = true;
    for await (const page of listPages(store, l, step, 'derailment', pageSize)) {
      yield `${first ? '' : ','}${page.map((it) => JSON.stringify(derailmentOf(it))).join(',')}`;
      first = false;
    }
    if (l.ongoing?.step === step) yield `${first ? '' : ','}${JSON.stringify(l.ongoing)}`;
    yield '],"instructions":[';
    first = true;
    for await (const page of listPages(store, l, step, 'instruction', pageSize)) {
      yield `${first ? '' : ','}${page.map((it) => JSON.stringify(instructionOf(it))).join(',')}`;
      first = false;
    }
    const derailmentsTotal = l.stored(step, 'derailment') + openOn(l, step);
    yield `],"derailmentsTotal":${derailmentsTotal},"derailmentsNext":null,"instructionsTotal":${l.stored(step, 'instruction')},"instructionsNext":null}`;
  }
  yield ']}';
}

/**
 * The CSV: each step's row, then its derailments' and instructions' rows in time order (at equal
 * times a derailment first, then by the event that told it), read in that order from the store;
 * the derailment still open goes where its start puts it among them.
 */
async function* csvExport(store: EventStore, l: Layout, pageSize: number): AsyncGenerator<string> {
  const { session, facts } = l.head;
  const id = session.sessionId;
  yield timelineCsvHeader();
  for (let step = 0; step < l.rows; step++) {
    const row = stepRow(facts, step, l.instructions);
    yield stepCsvLine(id, row);
    let ongoing = l.ongoing?.step === step ? l.ongoing : undefined;
    if (l.stored(step, 'derailment') + l.stored(step, 'instruction') > 0) {
      let after: TimeCursor | undefined;
      for (;;) {
        const page = await store.timelineItemsByTime(id, step, after, l.toSeq, pageSize);
        let text = '';
        let lines = 0;
        for (const it of page) {
          // A turn of the event loop every so many lines: building them is most of an export's work.
          if (++lines % BREATHE_LINES === 0) {
            yield text;
            text = '';
            await breathe();
          }
          // The open derailment sorts after every item that starts before it, and after the ended derailments that start with it.
          if (ongoing && (it.ts > ongoing.startTs || (it.ts === ongoing.startTs && it.kind === 'instruction'))) {
            text += derailmentCsvLine(id, row, ongoing);
            ongoing = undefined;
          }
          text += it.kind === 'derailment' ? derailmentCsvLine(id, row, derailmentOf(it)) : instructionCsvLine(id, row, instructionOf(it));
        }
        if (text) yield text;
        await breathe();
        if (page.length < pageSize) break;
        const last = page.at(-1)!;
        after = { ts: last.ts, kind: last.kind, seq: last.seq };
      }
    }
    if (ongoing) yield derailmentCsvLine(id, row, ongoing);
  }
}
