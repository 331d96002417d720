import type { Pipeline } from '../pipeline/pipeline';
import type { PipelineResult } from '../pipeline/results';
import type { Store } from '../store/db';
import { BUILTIN_TASKS } from './builtin';
import type { Instruction } from './instructions';
import { newProgress, TaskSession } from './session';
import type { Task } from './types';

/**
 * The page side of guidance: which task is selected, its progress (kept in IndexedDB so a
 * reload resumes it), and what the workers need to know. The state worker decides; this
 * records its verdicts and hands the localization workers each new step.
 */
export class TaskGuide {
  tasks: readonly Task[] = BUILTIN_TASKS;
  session: TaskSession | undefined;
  /** The latest instruction for the current step, from a localization worker. */
  instruction: Instruction | undefined;
  private pipeline: Pipeline | undefined;

  constructor(
    private readonly store: Store | undefined,
    private readonly onChange: () => void,
    private readonly onError: (message: string) => void,
  ) {}

  async load(): Promise<void> {
    if (!this.store) return;
    this.tasks = [...BUILTIN_TASKS, ...(await this.store.listTasks()).filter((t) => !BUILTIN_TASKS.some((b) => b.id === t.id))];
    const selected = await this.store.getSelectedTask();
    if (selected) await this.select(selected);
    this.onChange();
  }

  async select(id: string): Promise<void> {
    const task = this.tasks.find((t) => t.id === id);
    this.instruction = undefined;
    if (!task) {
      this.session = undefined;
    } else {
      const stored = await this.store?.getProgress(task.id);
      this.session = new TaskSession(task, stored ?? newProgress(task.id, Date.now()));
    }
    await this.persist(() => this.store?.setSelectedTask(id));
    this.push();
    this.onChange();
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

  /** Tells a (new) pipeline what the workers must know. */
  attach(pipeline: Pipeline | undefined): void {
    this.pipeline = pipeline;
    this.push();
  }

  onResult(r: PipelineResult): void {
    const s = this.session;
    if (!s || r.type !== 'output' || r.output.kind !== 'detections') return;
    if (r.role === 'localization') {
      const ins = r.output.instruction;
      if (ins && ins.step === s.current.step) this.instruction = ins;
      return;
    }
    const event = r.output.task;
    if (!event) return;
    if (event.type === 'error') {
      this.onError(event.message);
      return;
    }
    const before = s.current.step;
    if (s.apply(event, Date.now())) {
      void this.persist(() => this.store?.saveProgress(s.current.progress));
      if (s.current.step !== before) {
        this.instruction = undefined;
        this.pushStep();
      }
    }
    this.onChange();
  }

  private push(): void {
    const s = this.session;
    this.pipeline?.setTask(s?.task ?? null, s?.current.step ?? 0);
    this.pushStep();
  }

  private pushStep(): void {
    const s = this.session;
    const step = s && !s.current.done ? s.task.steps[s.current.step] : undefined;
    this.pipeline?.setStep(step ? { index: s!.current.step, step } : null);
  }

  private async persist(op: () => Promise<void> | undefined): Promise<void> {
    try {
      await op();
    } catch (err) {
      this.onError(err instanceof Error ? err.message : String(err));
    }
  }
}
