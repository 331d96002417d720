import { commandTask, resumeTaskAt, setTask, type VisionPipeline, type VisionResult } from '../vision/vision-pipeline';
import type { Store } from '../store/db';
import { YOLOX_NANO } from '../model/manifest';
import { BUILTIN_TASKS } from '../task/builtin';
import { unsupportedTask } from '../task/labels';
import type { Instruction } from '../task/instructions';
import { newProgress, TaskSession, type TaskProgressView } from '../task/session';
import type { TaskCommand, TaskEvent } from '../task/machine';
import type { Task } from '../task/types';
import type { SpeechKind } from './speech';

/** Something worth saying out loud, in the task's language. */
export interface Announcement {
  readonly kind: SpeechKind;
  readonly text: string;
  readonly lang: string;
}

export type GuideEventMap = {
  /** The task, its progress or the instruction changed: redraw. */
  change: Event;
  /** A new instruction, a completed step, a derailment, the end: say it. */
  announce: CustomEvent<Announcement>;
  error: CustomEvent<string>;
};

const seconds = (ms: number) => `${Math.round(ms / 1000)} seconds`;
/** A wait says how long is left once, at this mark (when it is longer than that). */
export const COUNTDOWN_MARK_MS = 10_000;

/** A wait's time left went from above `mark` to at most `mark` (and it was longer than `mark` to begin with). */
const crossed = (before: TaskProgressView, now: TaskProgressView, mark: number) => now.holdMs > mark && before.holdMs - before.heldMs > mark && now.holdMs - now.heldMs <= mark;

/**
 * The page side of guidance: which task is selected, its progress (kept in IndexedDB so a
 * reload resumes it), and the instruction for the current step. The state worker is the one
 * judge: it decides when a step is done and sends, with each verdict, the step's breakdown (the
 * instruction) that the panel, the overlay, the record and the voice all use. Nothing here
 * evaluates the step again.
 */
export class TaskGuide extends EventTarget {
  tasks: readonly Task[] = BUILTIN_TASKS;
  session: TaskSession | undefined;
  /** The instruction for the current step, as the judge last gave it. */
  instruction: Instruction | undefined;
  /** The frame the instruction was judged on. */
  instructionSeq = 0;
  /** Why the chosen task is not running: it needs labels the active model does not detect. */
  refusal: string | undefined;
  private pipeline: VisionPipeline | undefined;
  private store: Store | undefined;
  /** The chosen task's id, also while it is refused. */
  private chosen = '';
  /** The active model: a task is started only if it detects every label the task uses. */
  private model: { readonly name: string; readonly labels: readonly string[] } = YOLOX_NANO;

  /** Saved tasks and progress live in `store`; without it the built-in tasks still work. */
  async load(store: Store): Promise<void> {
    this.store = store;
    this.tasks = [...BUILTIN_TASKS, ...(await store.listTasks()).filter((t) => !BUILTIN_TASKS.some((b) => b.id === t.id))];
    const selected = await store.getSelectedTask();
    if (selected) await this.select(selected);
    this.changed();
  }

  get lang(): string {
    return this.session?.task.lang ?? 'en';
  }

  /** The task the person chose (it may be refused for the active model). */
  get selectedId(): string {
    return this.chosen;
  }

  /**
   * The active model changed: the chosen task is checked again. One the new model cannot judge
   * stops, saying which labels it lacks; one it refused before starts if the new model fits.
   */
  setModel(model: { readonly name: string; readonly labels: readonly string[] }): void {
    this.model = { name: model.name, labels: model.labels };
    const task = this.tasks.find((t) => t.id === this.chosen);
    if (!task) return;
    const refused = unsupportedTask(task, this.model) !== undefined;
    if (refused !== (this.session === undefined)) void this.select(task.id);
  }

  async select(id: string): Promise<void> {
    const task = this.tasks.find((t) => t.id === id);
    this.instruction = undefined;
    this.chosen = task ? id : '';
    this.refusal = task ? unsupportedTask(task, this.model) : undefined;
    if (!task || this.refusal) {
      this.session = undefined;
      if (this.refusal) this.fail(this.refusal);
    } else {
      const stored = await this.store?.getProgress(task.id);
      this.session = new TaskSession(task, stored ?? newProgress(task.id, Date.now()));
    }
    await this.persist(() => this.store?.setSelectedTask(id));
    this.push();
    this.changed();
  }

  /** Saves a person's task (imported or written) and selects it. */
  async save(task: Task): Promise<void> {
    await this.persist(() => this.store?.saveTask(task));
    this.tasks = [...this.tasks.filter((t) => t.id !== task.id), task];
    await this.persist(() => this.store?.clearProgress(task.id));
    await this.select(task.id);
  }

  async restart(): Promise<void> {
    const task = this.session?.task;
    if (!task) return;
    await this.persist(() => this.store?.clearProgress(task.id));
    await this.select(task.id);
  }

  /** Tells a (new) pipeline what its state worker must judge. */
  attach(pipeline: VisionPipeline | undefined): void {
    this.pipeline = pipeline;
    this.push();
  }

  /**
   * A person's command: `next` confirms a confirm step (or skips any other), `back` returns a
   * step. The state worker decides, in order with the frames; false when nothing can hear it
   * (no task, the task done, no camera running) or there is no step to go back to.
   */
  command(type: TaskCommand['type']): boolean {
    const s = this.session;
    if (!s || s.current.done || !this.pipeline) return false;
    const step = s.current.step;
    if (type === 'back' && step === 0) return false;
    commandTask(this.pipeline, s.task, { type, step }, type === 'next' ? step + 1 : step - 1);
    return true;
  }

  /** Says the current instruction again, even though it stands. */
  repeat(): void {
    const s = this.session;
    if (!s || s.current.done) return;
    this.announce('repeat', this.instruction?.text ?? s.task.steps[s.current.step]!.instruction);
  }

  /** A verdict from the state worker: what happened to the task, and the step's breakdown. */
  onResult(r: VisionResult): void {
    const s = this.session;
    if (!s || r.type !== 'output' || r.role !== 'state' || r.output.kind === 'probe') return;
    const { task: event, instruction, judgedSeq } = r.output;
    if (event?.type === 'error') return this.fail(event.message);
    if (event) this.onEvent(s, event);
    if (instruction) this.onInstruction(s, instruction, judgedSeq);
  }

  /** The judge's breakdown of the current step: said when its words change (not while derailed). */
  private onInstruction(s: TaskSession, next: Instruction, seq: number): void {
    if (s.current.done || next.step !== s.current.step) return;
    const before = this.instruction;
    this.instruction = next;
    this.instructionSeq = seq;
    if (before?.text === next.text && before.met === next.met) return;
    if (before?.text !== next.text && !s.current.derailed) this.announce('instruction', next.text);
    this.changed();
  }

  private onEvent(s: TaskSession, event: Exclude<TaskEvent, { type: 'error' }>): void {
    const before = s.current;
    if (s.apply(event, Date.now())) void this.persist(() => this.store?.saveProgress(s.current.progress));
    const now = s.current;
    if (now.step !== before.step) {
      this.instruction = undefined;
      // The worker holds the step now; a replacement after a crash or hang must resume here, not at the step last sent.
      if (this.pipeline) resumeTaskAt(this.pipeline, s.task, now.step);
      const next = s.task.steps[now.step];
      if (now.done) this.announce('done', `All done: ${s.task.title}, in ${seconds((now.progress.completedAt ?? Date.now()) - now.progress.startedAt)}.`);
      else if (next && event.type === 'went_back') this.announce('completed', `Back to step ${now.step + 1}: ${next.instruction}`);
      else if (next) this.announce('completed', `Step ${before.step + 1} done. Next: ${next.instruction}`);
    } else if (s.task.steps[now.step]?.kind === 'wait' && crossed(before, now, COUNTDOWN_MARK_MS)) {
      this.announce('countdown', `${seconds(COUNTDOWN_MARK_MS)} left`);
    } else if (now.derailed && !before.derailed) {
      this.announce('derailed', now.derailed);
    } else if (before.derailed && !now.derailed) {
      // Back on track: what to do stands again, so it is said again.
      this.announce('instruction', this.instruction?.text ?? s.task.steps[now.step]!.instruction);
    }
    this.changed();
  }

  override addEventListener<K extends keyof GuideEventMap>(type: K, listener: (e: GuideEventMap[K]) => void): void {
    super.addEventListener(type, listener as EventListener);
  }

  override removeEventListener<K extends keyof GuideEventMap>(type: K, listener: (e: GuideEventMap[K]) => void): void {
    super.removeEventListener(type, listener as EventListener);
  }

  private announce(kind: SpeechKind, text: string): void {
    this.dispatchEvent(new CustomEvent<Announcement>('announce', { detail: { kind, text, lang: this.lang } }));
  }

  private changed(): void {
    this.dispatchEvent(new Event('change'));
  }

  private fail(message: string): void {
    this.dispatchEvent(new CustomEvent('error', { detail: message }));
  }

  private push(): void {
    const s = this.session;
    if (this.pipeline) setTask(this.pipeline, s?.task ?? null, s?.current.step ?? 0);
  }

  private async persist(op: () => Promise<void> | undefined): Promise<void> {
    try {
      await op();
    } catch (err) {
      this.fail(err instanceof Error ? err.message : String(err));
    }
  }
}
