import { describe, expect, it } from 'vitest';
import { COCO_LABELS } from '../model/labels';
import { BUILTIN_TASKS } from './builtin';
import { instructionFor } from './instructions';
import { advance, startState, type MachineState, type TaskEvent } from './machine';
import { checkStep, gap, inside, related, type Box, type Scene } from './predicates';
import type { Task } from './types';
import { closest, formatProblem, parseTask, TaskError, validateTask } from './validate';

const box = (label: string, x: number, y: number, w = 100, h = 100, score = 0.9): Box => ({ label, score, x, y, w, h });
const scene = (...detections: Box[]): Scene => ({ width: 1000, height: 800, detections });

describe('validateTask', () => {
  it('accepts every built-in task', () => {
    for (const t of BUILTIN_TASKS) expect(validateTask(t, COCO_LABELS)).toEqual([]);
  });

  it('names the path of every problem and suggests the label meant', () => {
    const problems = validateTask(
      {
        id: 't',
        title: '',
        steps: [
          { instruction: 'a', require: [{ label: 'laptop' }] },
          { instruction: 'b', require: [{ label: 'laptop' }], holdMs: -5 },
          { instruction: 'c', require: [{ label: 'cupp', minCount: 0 }], relations: [{ subject: 'cup', relation: 'besides', object: 'laptop' }] },
        ],
        derail: [{ kind: 'must-stay', label: 'laptop', steps: [7] }, { kind: 'sometimes', label: 'cup' }],
        colour: 'red',
        lang: 'English please',
      },
      COCO_LABELS,
    ).map(formatProblem);
    expect(problems).toEqual(
      expect.arrayContaining([
        'title: must be a non-empty string, got ""',
        'colour: is not a field here (expected one of id, title, description, lang, steps, derail)',
        'lang: must be a language tag such as "en" or "de-DE", got "English please"',
        'steps[1].holdMs: must be a number from 0 to 600000, got -5',
        'steps[2].require[0].label: "cupp" is not a known label — did you mean "cup"?',
        'steps[2].require[0].minCount: must be a whole number from 1 to 100, got 0',
        'steps[2].relations[0].relation: must be one of left-of, right-of, above, below, near, inside, got "besides"',
        'derail[0].steps[0]: must be a whole number from 0 to 2, got 7',
        'derail[1].kind: must be "must-stay" or "forbidden", got "sometimes"',
      ]),
    );
  });

  it('requires related objects to be required, and regions to be real', () => {
    const problems = validateTask(
      { id: 't', title: 'T', steps: [{ instruction: 'x', require: [{ label: 'cup' }], relations: [{ subject: 'cup', relation: 'right-of', object: 'laptop' }, { subject: 'cup', relation: 'inside', region: 'upstairs' }] }] },
      COCO_LABELS,
    ).map(formatProblem);
    expect(problems).toEqual([
      'steps[0].relations[0].object: "laptop" must also be listed in steps[0].require',
      'steps[0].relations[1].region: "upstairs" is not a region (one of left-half, right-half, top-half, bottom-half, center, left-third, right-third, top-third, bottom-third, or {x, y, w, h} in 0–1)',
    ]);
  });

  it('parseTask reports bad JSON and invalid tasks as a TaskError', () => {
    expect(() => parseTask('{', COCO_LABELS)).toThrow(/not valid JSON/);
    expect(() => parseTask('[]', COCO_LABELS)).toThrow(TaskError);
    expect(parseTask(JSON.stringify(BUILTIN_TASKS[0]), COCO_LABELS).id).toBe('desk-setup');
  });

  it('suggests only near misses', () => {
    expect(closest('keybaord', COCO_LABELS)).toBe('keyboard');
    expect(closest('spaceship', COCO_LABELS)).toBeUndefined();
  });
});

describe('predicates', () => {
  const s = scene();
  it('left-of / right-of compare the subject centre with the object edges', () => {
    const laptop = box('laptop', 400, 300, 200, 100);
    expect(related('right-of', box('cup', 610, 300, 40, 40), laptop, s)).toBe(true); // centre 630 > 600
    expect(related('right-of', box('cup', 570, 300, 40, 40), laptop, s)).toBe(false); // centre 590, overlapping
    expect(related('left-of', box('cup', 340, 300, 40, 40), laptop, s)).toBe(true);
    expect(related('left-of', box('cup', 390, 300, 40, 40), laptop, s)).toBe(false);
  });
  it('above / below use the vertical edges', () => {
    const laptop = box('laptop', 400, 300, 200, 100);
    expect(related('above', box('cup', 450, 200, 40, 40), laptop, s)).toBe(true);
    expect(related('below', box('cup', 450, 390, 40, 40), laptop, s)).toBe(true);
    expect(related('below', box('cup', 450, 350, 40, 40), laptop, s)).toBe(false);
  });
  it('near allows a tenth of the frame diagonal of gap', () => {
    const a = box('a', 0, 0, 100, 100);
    expect(gap(a, box('b', 150, 0))).toBe(50);
    expect(related('near', a, box('b', 150, 0), s)).toBe(true); // diagonal 1280 → 128
    expect(related('near', a, box('b', 300, 0), s)).toBe(false);
  });
  it('inside looks at the centre against named and explicit regions', () => {
    expect(inside(box('cup', 100, 100), 'left-half', s)).toBe(true);
    expect(inside(box('cup', 700, 100), 'left-half', s)).toBe(false);
    expect(inside(box('cup', 450, 350), 'center', s)).toBe(true);
    expect(inside(box('cup', 800, 600), { x: 0.75, y: 0.7, w: 0.25, h: 0.3 }, s)).toBe(true);
  });
  it('checkStep counts, filters by score and checks relations on any qualifying pair', () => {
    const step = { instruction: 'x', require: [{ label: 'chair', minCount: 2 }, { label: 'cup', minScore: 0.5 }] };
    expect(checkStep(step, scene(box('chair', 0, 0), box('cup', 0, 0, 10, 10, 0.4))).missing).toEqual([
      { label: 'chair', need: 2, have: 1 },
      { label: 'cup', need: 1, have: 0 },
    ]);
    const rel = { instruction: 'x', require: [{ label: 'cup', minCount: 2 }, { label: 'laptop' }], relations: [{ subject: 'cup', relation: 'right-of' as const, object: 'laptop' }] };
    const c = checkStep(rel, scene(box('laptop', 400, 0, 200, 100), box('cup', 100, 0, 50, 50, 0.95), box('cup', 700, 0, 50, 50, 0.6)));
    expect(c.met).toBe(true);
    expect(c.relations[0]!.subject!.x).toBe(700);
  });
});

describe('task state machine', () => {
  const task: Task = {
    id: 't',
    title: 'T',
    steps: [
      { instruction: 'laptop', require: [{ label: 'laptop' }], holdMs: 1000 },
      { instruction: 'cup right of laptop', require: [{ label: 'laptop' }, { label: 'cup' }], relations: [{ subject: 'cup', relation: 'right-of', object: 'laptop' }], holdMs: 1000 },
    ],
    derail: [{ kind: 'must-stay', label: 'laptop', maxAbsentMs: 1500, steps: [1] }, { kind: 'forbidden', label: 'dog', minMs: 500 }],
  };
  const laptop = box('laptop', 400, 300, 200, 100);
  const cupRight = box('cup', 700, 300, 50, 50);

  /** Feeds scenes at the given times; returns the events. */
  function run(frames: [number, Scene][], from: MachineState = startState(0)): { events: TaskEvent[]; state: MachineState } {
    let state = from;
    const events: TaskEvent[] = [];
    for (const [t, sc] of frames) {
      const r = advance(task, state, sc, t);
      state = r.state;
      events.push(r.event);
    }
    return { events, state };
  }
  const every = (from: number, to: number, stepMs: number, sc: Scene): [number, Scene][] => {
    const out: [number, Scene][] = [];
    for (let t = from; t <= to; t += stepMs) out.push([t, sc]);
    return out;
  };

  it('completes a step only after its condition held for the hold time', () => {
    const { events, state } = run(every(0, 1000, 250, scene(laptop)));
    expect(events.slice(0, 4).map((e) => e.type)).toEqual(['executing_task', 'executing_task', 'executing_task', 'executing_task']);
    expect(events[3]).toMatchObject({ heldMs: 750, holdMs: 1000 });
    expect(events[4]).toEqual({ type: 'completed_task', completedStep: 0, nextStep: 1, stepMs: 1000, by: 'seen' });
    expect(state.step).toBe(1);
  });

  it('a momentary miss (flicker) does not reset the hold; a long one does', () => {
    const flicker = run([[0, scene(laptop)], [250, scene(laptop)], [500, scene()], [750, scene(laptop)], [1000, scene(laptop)]]);
    expect(flicker.events.at(-1)).toMatchObject({ type: 'completed_task', completedStep: 0 });
    const gapTooLong = run([[0, scene(laptop)], [250, scene()], [500, scene()], [1000, scene()], [1250, scene(laptop)], [2000, scene(laptop)]]);
    expect(gapTooLong.events.map((e) => e.type)).not.toContain('completed_task');
    expect(gapTooLong.events.at(-1)).toMatchObject({ type: 'executing_task', heldMs: 750 });
  });

  it('reports what is missing while executing', () => {
    const { events } = run([[0, scene(laptop)]], startState(0, 1));
    expect(events[0]).toMatchObject({ type: 'executing_task', step: 1, missing: ['cup'] });
  });

  it('derails when a must-stay object is gone too long, and recovers when it is back', () => {
    const start = startState(0, 1);
    const { events, state } = run(
      [[0, scene(laptop)], [500, scene()], [1500, scene()], [2100, scene()], [2500, scene()], [2750, scene(laptop)], [3000, scene(laptop, cupRight)]],
      start,
    );
    expect(events.slice(0, 3).map((e) => e.type)).toEqual(['executing_task', 'executing_task', 'executing_task']); // 1.5 s is allowed
    expect(events[3]).toEqual({ type: 'derailed', step: 1, reason: 'The laptop left the view — bring it back', since: 2100 });
    expect(events[4]).toMatchObject({ type: 'derailed', since: 2100 });
    expect(events[5]).toMatchObject({ type: 'executing_task', recovered: true, missing: ['cup'] });
    expect(events[6]).toMatchObject({ type: 'executing_task', recovered: false, heldMs: 0 });
    expect(state.derailed).toBeNull();
  });

  it('a must-stay rule only watches its own steps', () => {
    const { events } = run([[0, scene(laptop)], [3000, scene()]]);
    expect(events.map((e) => e.type)).not.toContain('derailed');
  });

  it('a forbidden object derails only once it stayed for its minimum time, and pauses the hold', () => {
    const dog = box('dog', 0, 0, 100, 100, 0.8);
    const { events } = run([[0, scene(laptop)], [250, scene(laptop, dog)], [500, scene(laptop, dog)], [750, scene(laptop, dog)], [1000, scene(laptop)], [1250, scene(laptop)]]);
    expect(events.map((e) => e.type)).toEqual(['executing_task', 'executing_task', 'executing_task', 'derailed', 'executing_task', 'executing_task']);
    expect(events[3]).toMatchObject({ reason: 'A dog is in view — it does not belong here' });
    expect(events[4]).toMatchObject({ recovered: true, heldMs: 0 });
  });

  it('finishes after the last step and says done from then on', () => {
    const { events, state } = run([...every(0, 1000, 500, scene(laptop)), ...every(1250, 2250, 500, scene(laptop, cupRight)), [2500, scene()]]);
    const completed = events.filter((e) => e.type === 'completed_task');
    expect(completed).toEqual([
      { type: 'completed_task', completedStep: 0, nextStep: 1, stepMs: 1000, by: 'seen' },
      { type: 'completed_task', completedStep: 1, nextStep: null, stepMs: 1250, by: 'seen' },
    ]);
    expect(state.done).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'executing_task', done: true });
  });
});

describe('instructions', () => {
  const step = { instruction: 'Put the cup to the right of the laptop', require: [{ label: 'laptop' }, { label: 'cup' }], relations: [{ subject: 'cup', relation: 'right-of' as const, object: 'laptop' }] };

  it('asks for what is missing, highlighting what is there', () => {
    const i = instructionFor(step, 3, scene(box('laptop', 400, 300, 200, 100)));
    expect(i).toMatchObject({ step: 3, text: 'Bring a cup into view', met: false });
    expect(i.highlight.map((b) => b.label)).toEqual(['laptop']);
  });

  it('says where the object is and draws an arrow to where it must go', () => {
    const cup = box('cup', 300, 320, 40, 40);
    const laptop = box('laptop', 400, 300, 200, 100);
    const i = instructionFor(step, 0, scene(laptop, cup, box('dog', 0, 0)));
    expect(i.text).toBe('The cup is left of the laptop — move it right');
    expect(i.focus).toBe(cup);
    expect(i.target).toEqual({ kind: 'arrow', relation: 'right-of', anchor: laptop, from: { x: 320, y: 340 }, to: { x: 624, y: 340 } });
    expect(i.highlight.map((b) => b.label).sort()).toEqual(['cup', 'laptop']);
  });

  it('shows a zone for region steps, and the step text once the condition holds', () => {
    const zoneStep = { instruction: 'Book on the left', require: [{ label: 'book' }], relations: [{ subject: 'book', relation: 'inside' as const, region: 'left-half' as const }] };
    const outside = instructionFor(zoneStep, 0, scene(box('book', 800, 100)));
    expect(outside.text).toBe('Move the book into the left half of the view');
    expect(outside.target).toEqual({ kind: 'zone', rect: { x: 0, y: 0, w: 500, h: 800 } });
    const done = instructionFor(zoneStep, 0, scene(box('book', 100, 100)));
    expect(done).toMatchObject({ text: 'Book on the left', met: true });
  });
});
