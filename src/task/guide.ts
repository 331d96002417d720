import type { Pipeline } from '../pipeline/pipeline';
import type { PipelineResult } from '../pipeline/results';
import type { Store } from '../store/db';
import { BUILTIN_TASKS } from './builtin';
import { instructionFor, type Instruction } from './instructions';
import { trackedScene } from './scene';
import type { LiveSceneView } from '../guide/live-scene';
import { newProgress, TaskSession } from './session';
import type { Task } from './types';

/**
 * The page side of guidance: which task is selected, its progress (kept in IndexedDB so a
 * reload resumes it), and the instruction for the current step. The state worker decides when
 * a step is done; this records its verdicts, and builds the one instruction that the panel, the
 * overlay, the record and the voice all use, from the page's tracked objects and the current step.
 */
export class TaskGuide {
  tasks: readonly Task[] = BUILTIN_TASKS;
  session: TaskSession | undefined;
  /** The instruction for the current step, built from the newest tracked scene. */
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

  /** The tracked objects changed: rebuild the instruction for the current step from them. */
  onScene(scene: LiveSceneView): void {
    const s = this.session;
    if (!s || s.current.done || scene.width === 0) return;
    const step = s.task.steps[s.current.step]!;
    const next = instructionFor(step, s.current.step, trackedScene(scene.tracks, scene.width, scene.height));
    const before = this.instruction;
    this.instruction = next;
    if (before?.text !== next.text || before.met !== next.met) this.onChange();
  }

  onResult(r: PipelineResult): void {
    const s = this.session;
    if (!s || r.type !== 'output' || r.output.kind !== 'detections' || r.role !== 'state') return;
    const event = r.output.task;
    if (!event) return;
    if (event.type === 'error') {
      this.onError(event.message);
      return;
    }
    const before = s.current.step;
    if (s.apply(event, Date.now())) {
      void this.persist(() => this.store?.saveProgress(s.current.progress));
      if (s.current.step !== before) this.instruction = undefined;
    }
    this.onChange();
  }

  private push(): void {
    const s = this.session;
    this.pipeline?.setTask(s?.task ?? null, s?.current.step ?? 0);
  }

  private async persist(op: () => Promise<void> | undefined): Promise<void> {
    try {
      await op();
    } catch (err) {
      this.onError(err instanceof Error ? err.message : String(err));
    }
  }
}
