import { describe, expect, it } from 'vitest';
import { COCO_LABELS } from '../model/labels';
import { BUILTIN_TASKS } from './builtin';
import { instructionFor } from './instructions';
import { advance, command, startState, type MachineState, type TaskCommand, type TaskEvent } from './machine';
import { checkStep, countRange, countedObjects, regionRect, type Box, type Scene } from './predicates';
import type { Task } from './types';
import { formatProblem, validateTask } from './validate';

// Issue 19: take-away and exactly-N counts, region scope, confirm and wait steps, commands, honest holds.

const box = (label: string, x: number, y: number, w = 100, h = 100, score = 0.9): Box => ({ label, score, x, y, w, h });
const scene = (...detections: Box[]): Scene => ({ width: 900, height: 600, detections });
const bottles = (n: number) => Array.from({ length: n }, (_, i) => box('bottle', 50 + i * 250, 200));

describe('counts and regions', () => {
  it('maxCount alone means at most, from zero; minCount alone at least; both a range', () => {
    expect(countRange({ label: 'bottle' })).toEqual({ min: 1, max: Infinity });
    expect(countRange({ label: 'bottle', maxCount: 0 })).toEqual({ min: 0, max: 0 });
    expect(countRange({ label: 'bottle', minCount: 2, maxCount: 2 })).toEqual({ min: 2, max: 2 });
  });

  it('maxCount 0 is met only with none in view, and names every box that must go', () => {
    const step = { instruction: 'clear', require: [{ label: 'bottle', maxCount: 0 }] };
    expect(checkStep(step, scene()).met).toBe(true);
    const c = checkStep(step, scene(...bottles(2)));
    expect(c.met).toBe(false);
    expect(c.excess).toEqual([{ label: 'bottle', max: 0, have: 2, boxes: expect.any(Array) }]);
    expect(c.excess[0]!.boxes).toHaveLength(2);
  });

  it('exactly N: too few is missing, too many is excess, N is met', () => {
    const step = { instruction: 'two', require: [{ label: 'bottle', minCount: 2, maxCount: 2 }] };
    expect(checkStep(step, scene(...bottles(1))).missing).toEqual([{ label: 'bottle', need: 2, have: 1 }]);
    expect(checkStep(step, scene(...bottles(3))).excess[0]).toMatchObject({ max: 2, have: 3 });
    expect(checkStep(step, scene(...bottles(2))).met).toBe(true);
  });

  it('thirds are thirds of the frame', () => {
    const s = scene();
    expect(regionRect('left-third', s)).toEqual({ x: 0, y: 0, w: 300, h: 600 });
    expect(regionRect('right-third', s)).toEqual({ x: 600, y: 0, w: 300, h: 600 });
    expect(regionRect('top-third', s)).toEqual({ x: 0, y: 0, w: 900, h: 200 });
    expect(regionRect('bottom-third', s)).toEqual({ x: 0, y: 400, w: 900, h: 200 });
  });

  it('a scoped requirement counts only objects whose centre is in its region', () => {
    const left = box('bottle', 100, 100); // centre x 150: left third
    const edge = box('bottle', 260, 100); // centre x 310: just outside
    expect(countedObjects(scene(left, edge), 'bottle', 0.35, 'left-third')).toEqual([left]);
    const step = { instruction: 'a bottle on the left', require: [{ label: 'bottle', region: 'left-third' as const }] };
    expect(checkStep(step, scene(edge)).missing).toEqual([{ label: 'bottle', need: 1, have: 0, region: 'left-third' }]);
    expect(checkStep(step, scene(edge, left)).met).toBe(true);
    // Clearing a region: bottles elsewhere do not count.
    const clear = { instruction: 'clear the left', require: [{ label: 'bottle', maxCount: 0, region: 'left-third' as const }] };
    expect(checkStep(clear, scene(edge)).met).toBe(true);
    expect(checkStep(clear, scene(left)).met).toBe(false);
  });

  it('a scoped relation looks only at objects in its region', () => {
    const step = {
      instruction: 'cup right of the bottle, on the left',
      require: [{ label: 'bottle' }, { label: 'cup' }],
      relations: [{ subject: 'cup' as const, relation: 'right-of' as const, object: 'bottle', region: 'left-half' as const }],
    };
    const bottle = box('bottle', 50, 100);
    expect(checkStep(step, scene(bottle, box('cup', 200, 100))).met).toBe(true); // cup centre 250 < 450
    expect(checkStep(step, scene(bottle, box('cup', 600, 100))).met).toBe(false); // right of it, but in the right half
  });
});

describe('instructions for the new steps', () => {
  it('says what to take away and boxes it for removal', () => {
    const take = instructionFor({ instruction: 'x', require: [{ label: 'bottle', minCount: 2, maxCount: 2 }] }, 0, scene(...bottles(3)));
    expect(take.text).toBe('Take 1 bottle away');
    expect(take.remove).toHaveLength(3);
    expect(instructionFor({ instruction: 'x', require: [{ label: 'bottle', maxCount: 1 }] }, 0, scene(...bottles(3))).text).toBe('Take 2 bottles away');
    expect(instructionFor({ instruction: 'x', require: [{ label: 'bottle', maxCount: 0 }] }, 0, scene(...bottles(1))).text).toBe('Remove the bottle from view');
    expect(instructionFor({ instruction: 'x', require: [{ label: 'bottle', maxCount: 0 }] }, 0, scene(...bottles(2))).text).toBe('Remove the 2 bottles from view');
    expect(instructionFor({ instruction: 'x', require: [{ label: 'wine glass', maxCount: 0, region: 'right-third' }] }, 0, scene(box('wine glass', 700, 100), box('wine glass', 750, 300))).text).toBe(
      'Remove the 2 wine glasses from the right third of the view',
    );
    const met = instructionFor({ instruction: 'Take the bottles away', require: [{ label: 'bottle', maxCount: 0 }] }, 0, scene());
    expect(met).toMatchObject({ text: 'Take the bottles away', met: true });
    expect(met.remove).toBeUndefined();
  });

  it('shows a scoped step its zone, and asks for what is missing there', () => {
    const ins = instructionFor({ instruction: 'x', require: [{ label: 'bottle', region: 'left-third' }] }, 2, scene(box('bottle', 700, 100)));
    expect(ins.text).toBe('Bring a bottle into the left third of the view');
    expect(ins.scopes).toEqual([{ x: 0, y: 0, w: 300, h: 600 }]);
    expect(ins.target).toEqual({ kind: 'zone', rect: { x: 0, y: 0, w: 300, h: 600 } });
  });

  it('a confirm step says its words; a wait step says how long', () => {
    expect(instructionFor({ kind: 'confirm', instruction: 'Tighten the bolt by hand, then say next' }, 1, scene(...bottles(1)))).toEqual({
      step: 1,
      text: 'Tighten the bolt by hand, then say next',
      met: false,
      highlight: [],
    });
    expect(instructionFor({ kind: 'wait', instruction: 'Let the glue set', durationMs: 30_000 }, 1, scene()).text).toBe('Let the glue set: 30 seconds');
  });
});

describe('state machine: new steps, commands, honest holds', () => {
  const task: Task = {
    id: 't',
    title: 'T',
    steps: [
      { instruction: 'Take one bottle away', require: [{ label: 'bottle', maxCount: 2 }], holdMs: 1000 },
      { kind: 'confirm', instruction: 'Tighten the cap, then say next' },
      { kind: 'wait', instruction: 'Let it settle', durationMs: 2000 },
      { instruction: 'Clear the bottles', require: [{ label: 'bottle', maxCount: 0 }], holdMs: 500 },
    ],
    derail: [{ kind: 'must-stay', label: 'cup', maxAbsentMs: 1000, steps: [2] }],
  };
  const cup = box('cup', 400, 400, 60, 60);

  type Input = readonly [number, Scene] | readonly [number, TaskCommand];
  function run(inputs: readonly Input[], from: MachineState = startState(0, 0, task)): { events: TaskEvent[]; state: MachineState } {
    let state = from;
    const events: TaskEvent[] = [];
    for (const [t, x] of inputs) {
      if ('type' in x) {
        const r = command(task, state, x, t);
        if (r) [state] = [r.state, events.push(r.event)];
        continue;
      }
      const r = advance(task, state, x, t);
      state = r.state;
      events.push(r.event);
    }
    return { events, state };
  }
  const types = (events: readonly TaskEvent[]) => events.map((e) => e.type);

  it('a removal completes once fewer are in view for the hold time, on analysed frames', () => {
    const { events, state } = run([[0, scene(...bottles(3))], [250, scene(...bottles(2))], [750, scene(...bottles(2))], [1250, scene(...bottles(2))]]);
    expect(events.at(-1)).toEqual({ type: 'completed_task', completedStep: 0, nextStep: 1, stepMs: 1250, by: 'seen' });
    expect(state.step).toBe(1);
  });

  it('one analysed frame is never enough: a hold of 0 still needs two frames', () => {
    const quick: Task = { id: 'q', title: 'Q', steps: [{ instruction: 'none', require: [{ label: 'bottle', maxCount: 0 }], holdMs: 0 }] };
    const first = advance(quick, startState(0, 0, quick), scene(), 0);
    expect(first.event).toMatchObject({ type: 'executing_task', heldMs: 0 });
    expect(advance(quick, first.state, scene(), 250).event).toMatchObject({ type: 'completed_task', by: 'seen' });
  });

  it('a gap in analysis restarts the hold: frames that failed are not "nothing in view"', () => {
    // Two analysed frames 3 s apart with nothing in view between: the frames in between failed and
    // never reached the machine. Without the gap rule this would complete at 3000 (held 3 s).
    const gapped = run([[0, scene(...bottles(3))], [250, scene(...bottles(2))], [3250, scene(...bottles(2))]]);
    expect(types(gapped.events)).not.toContain('completed_task');
    expect(gapped.events.at(-1)).toMatchObject({ type: 'executing_task', heldMs: 0 });
    // The hold then builds again from the frame after the gap.
    const resumed = run([[3750, scene(...bottles(2))], [4250, scene(...bottles(2))]], gapped.state);
    expect(resumed.events.at(-1)).toMatchObject({ type: 'completed_task', stepMs: 4250 });
  });

  it('a gap bound can be chosen: a gap just under it keeps the hold', () => {
    const s0 = advance(task, startState(0, 0, task), scene(...bottles(2)), 0, { maxGapMs: 1500 });
    expect(advance(task, s0.state, scene(...bottles(2)), 1400, { maxGapMs: 1500 }).event).toMatchObject({ type: 'completed_task' });
    expect(advance(task, s0.state, scene(...bottles(2)), 1600, { maxGapMs: 1500 }).event).toMatchObject({ type: 'executing_task', heldMs: 0 });
  });

  it('a confirm step waits for the person, however long; next confirms it', () => {
    const from = startState(0, 1, task);
    const { events, state } = run([[0, scene()], [5000, scene()], [5100, { type: 'next', step: 1 }]], from);
    expect(types(events)).toEqual(['executing_task', 'executing_task', 'completed_task']);
    expect(events[1]).toMatchObject({ step: 1, heldMs: 0, holdMs: 0 });
    expect(events[2]).toEqual({ type: 'completed_task', completedStep: 1, nextStep: 2, stepMs: 5100, by: 'confirmed' });
    expect(state).toMatchObject({ step: 2, stepStartedAt: 5100 });
  });

  it('a command for a step already left behind is ignored (no double skip)', () => {
    const from = startState(0, 1, task);
    const once = command(task, from, { type: 'next', step: 1 }, 100)!;
    expect(command(task, once.state, { type: 'next', step: 1 }, 150)).toBeNull();
  });

  it('next on a watched step skips it and says so; back returns a step and starts it again', () => {
    const skipped = command(task, startState(0, 0, task), { type: 'next', step: 0 }, 300)!;
    expect(skipped.event).toMatchObject({ type: 'completed_task', completedStep: 0, by: 'skipped' });
    const back = command(task, skipped.state, { type: 'back', step: 1 }, 900)!;
    expect(back.event).toEqual({ type: 'went_back', fromStep: 1, step: 0 });
    expect(back.state).toMatchObject({ step: 0, stepStartedAt: 900, holdSince: null, heldFrames: 0 });
    expect(command(task, back.state, { type: 'back', step: 0 }, 1000)).toBeNull();
  });

  it('a wait counts analysed time only, and completes once its duration has passed', () => {
    const from = startState(0, 2, task);
    const { events } = run([[0, scene(cup)], [500, scene(cup)], [1000, scene(cup)], [1500, scene(cup)], [2000, scene(cup)]], from);
    expect(events[2]).toMatchObject({ type: 'executing_task', step: 2, heldMs: 1000, holdMs: 2000 });
    expect(events.at(-1)).toEqual({ type: 'completed_task', completedStep: 2, nextStep: 3, stepMs: 2000, by: 'waited' });
  });

  it('a paused camera does not complete a wait: the gap does not count', () => {
    const from = startState(0, 2, task);
    const { events } = run([[0, scene(cup)], [500, scene(cup)], [10_000, scene(cup)], [10_500, scene(cup)]], from);
    expect(types(events)).not.toContain('completed_task');
    expect(events.at(-1)).toMatchObject({ heldMs: 1000 });
  });

  it('derail rules are watched during a wait, which pauses while derailed', () => {
    const from = startState(0, 2, task);
    const { events, state } = run([[0, scene(cup)], [500, scene(cup)], [1000, scene()], [1500, scene()], [2000, scene()], [2500, scene(cup)], [3000, scene(cup)]], from);
    expect(types(events)).toEqual(['executing_task', 'executing_task', 'executing_task', 'executing_task', 'derailed', 'executing_task', 'completed_task']);
    expect(events[3]).toMatchObject({ heldMs: 1500 });
    expect(events[4]).toMatchObject({ reason: 'The cup left the view — bring it back' });
    // Paused while derailed: the interval that ends the derailment does not count either.
    expect(events[5]).toMatchObject({ recovered: true, heldMs: 1500 });
    expect(events[6]).toEqual({ type: 'completed_task', completedStep: 2, nextStep: 3, stepMs: 3000, by: 'waited' });
    expect(state.step).toBe(3);
  });

  it('a must-stay rule still derails a removal step when what must stay goes with it', () => {
    const t: Task = { id: 'm', title: 'M', steps: [{ instruction: 'Take the bottle away, keep the cup', require: [{ label: 'bottle', maxCount: 0 }], holdMs: 1000 }], derail: [{ kind: 'must-stay', label: 'cup', maxAbsentMs: 500 }] };
    let s = startState(0, 0, t);
    const events: TaskEvent[] = [];
    for (const [now, sc] of [[0, scene(cup, ...bottles(1))], [250, scene()], [500, scene()], [1000, scene()], [1250, scene()]] as const) {
      const r = advance(t, s, sc, now);
      s = r.state;
      events.push(r.event);
    }
    expect(types(events)).toEqual(['executing_task', 'executing_task', 'executing_task', 'derailed', 'derailed']);
  });
});

describe('validating the new fields', () => {
  const v = (steps: unknown[], extra: Record<string, unknown> = {}) => validateTask({ id: 't', title: 'T', steps, ...extra }, COCO_LABELS).map(formatProblem);

  it('accepts every built-in task, including the one with every new kind of step', () => {
    for (const t of BUILTIN_TASKS) expect(validateTask(t, COCO_LABELS), t.id).toEqual([]);
    const kinds = BUILTIN_TASKS.flatMap((t) => t.steps.map((s) => s.kind ?? 'see'));
    expect(new Set(kinds)).toEqual(new Set(['see', 'confirm', 'wait']));
  });

  it('names the path of each bad count, naming both ends of a bad range', () => {
    expect(v([{ instruction: 'x', require: [{ label: 'bottle', minCount: 3, maxCount: 2 }] }])).toEqual([
      'steps[0].require[0].maxCount: must be at least steps[0].require[0].minCount (3), got 2',
    ]);
    expect(v([{ instruction: 'x', require: [{ label: 'bottle', maxCount: -1 }] }])).toEqual(['steps[0].require[0].maxCount: must be a whole number from 0 to 100, got -1']);
    expect(v([{ instruction: 'x', require: [{ label: 'bottle', maxCount: 1.5 }] }])).toEqual(['steps[0].require[0].maxCount: must be a whole number from 0 to 100, got 1.5']);
    expect(v([{ instruction: 'x', require: [{ label: 'bottle', maxcount: 0 }] }])).toEqual([
      'steps[0].require[0].maxcount: is not a field here — did you mean "maxCount"? (expected one of label, minCount, maxCount, minScore, region)',
    ]);
  });

  it('checks regions on requirements and relations, with a suggestion', () => {
    expect(v([{ instruction: 'x', require: [{ label: 'bottle', region: 'left-thrid' }] }])).toEqual([
      'steps[0].require[0].region: "left-thrid" is not a region — did you mean "left-third"? (one of left-half, right-half, top-half, bottom-half, center, left-third, right-third, top-third, bottom-third, or {x, y, w, h} in 0–1)',
    ]);
    expect(v([{ instruction: 'x', require: [{ label: 'bottle', region: { x: 0, y: 0, w: 2, h: 1 } }] }])).toEqual(['steps[0].require[0].region.w: must be a number from 0 to 1, got 2']);
    expect(
      v([{ instruction: 'x', require: [{ label: 'bottle' }, { label: 'cup' }], relations: [{ subject: 'cup', relation: 'near', object: 'bottle', region: 'uptop' }] }]),
    ).toEqual(['steps[0].relations[0].region: "uptop" is not a region (one of left-half, right-half, top-half, bottom-half, center, left-third, right-third, top-third, bottom-third, or {x, y, w, h} in 0–1)']);
  });

  it('refuses a relation on an object that must be gone', () => {
    expect(v([{ instruction: 'x', require: [{ label: 'bottle', maxCount: 0 }, { label: 'cup' }], relations: [{ subject: 'cup', relation: 'near', object: 'bottle' }] }])).toEqual([
      'steps[0].relations[0].object: "bottle" cannot be related: steps[0].require allows none in view (maxCount 0)',
    ]);
  });

  it('checks step kinds and the fields each kind takes', () => {
    expect(v([{ kind: 'confrim', instruction: 'x' }])).toEqual(['steps[0].kind: must be one of see, confirm, wait — did you mean "confirm"?, got "confrim"']);
    expect(v([{ kind: 'confirm', instruction: 'x', require: [{ label: 'cup' }] }])).toEqual([
      'steps[0].require: is not a field of a confirm step (expected one of kind, instruction)',
    ]);
    expect(v([{ kind: 'confirm', instruction: '' }])).toEqual(['steps[0].instruction: must be a non-empty string, got ""']);
    expect(v([{ kind: 'wait', instruction: 'x' }])).toEqual(['steps[0].durationMs: is required: how long to wait, in milliseconds']);
    expect(v([{ kind: 'wait', instruction: 'x', durationMs: 0 }])).toEqual(['steps[0].durationMs: must be a number from 1 to 3600000, got 0']);
    expect(v([{ kind: 'wait', instruction: 'x', duration: 3000 }])).toEqual([
      'steps[0].duration: is not a field of a wait step — did you mean "durationMs"? (expected one of kind, instruction, durationMs)',
      'steps[0].durationMs: is required: how long to wait, in milliseconds',
    ]);
    expect(v([{ kind: 'see', instruction: 'x', require: [{ label: 'cup' }] }, { kind: 'wait', instruction: 'y', durationMs: 5000 }, { kind: 'confirm', instruction: 'z' }])).toEqual([]);
  });

  it('suggests the relation and derail kind meant', () => {
    expect(v([{ instruction: 'x', require: [{ label: 'cup' }, { label: 'bottle' }], relations: [{ subject: 'cup', relation: 'left-off', object: 'bottle' }] }])).toEqual([
      'steps[0].relations[0].relation: must be one of left-of, right-of, above, below, near, inside — did you mean "left-of"?, got "left-off"',
    ]);
    expect(v([{ instruction: 'x', require: [{ label: 'cup' }] }], { derail: [{ kind: 'must-stai', label: 'cup' }] })).toEqual([
      'derail[0].kind: must be "must-stay" or "forbidden" — did you mean "must-stay"?, got "must-stai"',
    ]);
  });
});
