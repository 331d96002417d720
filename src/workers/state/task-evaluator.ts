import { assertNever } from '../../util/assert-never';
import { instructionFor, type Instruction } from '../../task/instructions';
import { advance, command, startState, type MachineState, type TaskCommand, type TaskEvent } from '../../task/machine';
import { checkStep, type StepCheck } from '../../task/predicates';
import { trackedScene } from '../../task/scene';
import type { Task } from '../../task/types';
import { validateTask } from '../../task/validate';
import { Tracker, type Track } from '../../tracking/tracker';
import type { PoolSighting, TaskControl, Verdict } from '../../shared/protocol';

/** One frame's detections, as the judge tracks them: its own detector's, or the pool's. */
export type Sighting = Omit<PoolSighting, 'type'>;

export interface TaskJudgeOptions {
  /** The labels of the model whose detections are judged: a task using others is refused. */
  readonly labels: readonly string[];
  readonly scoreThreshold: number;
  /** Sightings in a row that confirm a track: fewer where frames come few a second. */
  readonly minHits: number;
}

/**
 * The task state lives here, in the one state worker: the current task, its step and
 * hysteresis, advanced on each judged frame. Time is the frame's capture time, so the verdicts
 * follow what the camera saw, not when the worker got to it. The step is judged on tracked
 * objects (frames are observed in capture order), so an object missed on one frame or hovering
 * at the score threshold does not flip the verdict, and "two cups" means two tracked cups.
 *
 * It is the only place the step's condition is evaluated: each verdict carries the breakdown
 * (the instruction, with the boxes it is about) that the screen, the voice and the record use.
 */
export class TaskJudge {
  private task: Task | null = null;
  private state: MachineState | undefined;
  private resumeAt = 0;
  private rejected: string | undefined;
  /** Commands heard since the last verdict, applied in order at the next judgement. */
  private commands: TaskCommand[] = [];
  private readonly tracker: Tracker;
  private tracks: readonly Track[] = [];
  private frame = { seq: 0, captureTs: 0, width: 0, height: 0 };
  /** Something was observed since the last verdict. */
  private fresh = false;
  /** Task time: never runs backwards, whichever frame it is read from. */
  private clock = -Infinity;

  constructor(private readonly opts: TaskJudgeOptions) {
    this.tracker = new Tracker({ highScore: opts.scoreThreshold, newTrackScore: opts.scoreThreshold, minHits: opts.minHits });
  }

  control(msg: Exclude<TaskControl, PoolSighting>): void {
    switch (msg.type) {
      case 'task': {
        // The page validated it; a worker still refuses a malformed task rather than crash on it.
        const problems = msg.task ? validateTask(msg.task, this.opts.labels) : [];
        this.rejected = problems.length ? `task refused: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}` : undefined;
        this.task = this.rejected ? null : msg.task;
        this.state = undefined;
        this.resumeAt = msg.step;
        this.commands = [];
        return;
      }
      case 'command':
        this.commands.push(msg.command);
        return;
      default:
        return assertNever(msg);
    }
  }

  /** Tracks one frame's detections (in capture order); judged at the next `judge`. */
  observe(s: Sighting): void {
    this.tracks = this.tracker.update([...s.detections, ...s.uncertain], s.captureTs);
    this.frame = { seq: s.seq, captureTs: s.captureTs, width: s.width, height: s.height };
    this.fresh = true;
  }

  /**
   * The verdict on the newest observed frame, with the commands heard since the last one.
   * `tickTs` is the capture time of the frame that asks: the task's time when nothing was observed yet.
   */
  judge(tickTs: number): Verdict {
    const fresh = this.fresh;
    this.fresh = false;
    const judgedSeq = this.frame.seq;
    if (this.rejected) return { task: { type: 'error', message: this.rejected }, judgedSeq, instruction: null, breakdown: null };
    const task = this.task;
    if (!task) return { task: null, judgedSeq, instruction: null, breakdown: null };
    this.clock = Math.max(this.clock, judgedSeq > 0 ? this.frame.captureTs : tickTs);
    const now = this.clock;
    let state = (this.state ??= startState(now, this.resumeAt, task));
    // A person's command is this frame's verdict; one meant for a step already left is dropped.
    // At most one can apply: each names the step the person saw, and the first that applies moves on.
    const pending = this.commands;
    this.commands = [];
    let event: TaskEvent | undefined;
    for (const c of pending) {
      const r = command(task, state, c, now);
      if (r && !event) [state, event] = [r.state, r.event];
    }
    const scene = trackedScene(this.tracks, this.frame.width, this.frame.height);
    let check: StepCheck | undefined;
    if (!event) {
      if (!fresh) return { task: null, judgedSeq, instruction: null, breakdown: null };
      const r = advance(task, state, scene, now);
      [state, event] = [r.state, r.event];
      // The step's evaluation on this frame, when the step it judged is still the current one.
      if (r.state.step === this.state?.step) check = r.check;
    }
    this.state = state;
    return { task: event, judgedSeq, ...this.breakdownNow(task, state, scene, check) };
  }

  /**
   * The current step's breakdown on `scene`, evaluated once: the machine's own evaluation when
   * it judged this step, else (a new step, a command) this step's now. None once the task is
   * over or before any frame was seen.
   */
  private breakdownNow(task: Task, state: MachineState, scene: ReturnType<typeof trackedScene>, check: StepCheck | undefined): Pick<Verdict, 'instruction' | 'breakdown'> {
    const step = task.steps[state.step];
    if (state.done || !step || scene.width === 0) return { instruction: null, breakdown: null };
    const evaluated = step.kind === 'confirm' || step.kind === 'wait' ? undefined : (check ?? checkStep(step, scene));
    return { instruction: instructionFor(step, state.step, scene, evaluated), breakdown: evaluated ?? null };
  }
}
