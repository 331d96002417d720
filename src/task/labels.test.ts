import { describe, expect, it } from 'vitest';
import { COCO_LABELS } from '../model/labels';
import { BUILTIN_TASKS } from './builtin';
import { labelsOf, missingLabels, unsupportedTask } from './labels';
import type { Task } from './types';

const PARTS: Task = {
  id: 'tighten',
  title: 'Tighten the bolt',
  steps: [
    { instruction: 'Show the torque wrench', require: [{ label: 'torque wrench' }] },
    { instruction: 'Put the bolt right of the wrench', require: [{ label: 'torque wrench' }, { label: 'bolt' }], relations: [{ subject: 'bolt', relation: 'right-of', object: 'torque wrench' }, { subject: 'bolt', relation: 'inside', region: 'center' }] },
  ],
  derail: [{ kind: 'forbidden', label: 'hand' }, { kind: 'must-stay', label: 'torque wrench' }],
};

describe('labelsOf', () => {
  it('lists every label a task uses once, in order of first use, derail rules included', () => {
    expect(labelsOf(PARTS)).toEqual(['torque wrench', 'bolt', 'hand']);
  });

  it('takes a region-scoped relation and a removal as labels, and nothing from confirm and wait steps', () => {
    const task: Task = {
      id: 'clear-bench',
      title: 'Clear the bench',
      steps: [
        { instruction: 'Take every bolt off the bench', require: [{ label: 'bolt', maxCount: 0 }] },
        { kind: 'confirm', instruction: 'Wipe the bench, then say next' },
        { kind: 'wait', instruction: 'Let it dry', durationMs: 30_000 },
        { instruction: 'Put the wrench on the left', require: [{ label: 'torque wrench', region: 'left-third' }], relations: [{ subject: 'torque wrench', relation: 'left-of', object: 'bolt', region: 'left-half' }] },
      ],
    };
    expect(labelsOf(task)).toEqual(['bolt', 'torque wrench']);
  });

  it('every built-in task needs only COCO labels, so it runs on the built-in model', () => {
    for (const t of BUILTIN_TASKS) expect(missingLabels(t, COCO_LABELS), t.id).toEqual([]);
  });
});

describe('unsupportedTask', () => {
  it('names the labels the model lacks and the model', () => {
    expect(unsupportedTask(PARTS, { name: 'parts.onnx', labels: ['torque wrench', 'bolt'] })).toBe(
      'The task "Tighten the bolt" needs "hand", which the model "parts.onnx" does not detect. Choose a model that does, or another task.',
    );
    const desk = BUILTIN_TASKS.find((t) => t.id === 'desk-setup')!;
    expect(unsupportedTask(desk, { name: 'parts.onnx', labels: ['torque wrench', 'bolt'] })).toMatch(/^The task ".+" needs "laptop", "keyboard", .*which the model "parts\.onnx" does not detect/);
    expect(unsupportedTask(PARTS, { name: 'parts.onnx', labels: ['torque wrench', 'bolt', 'hand'] })).toBeUndefined();
  });
});
