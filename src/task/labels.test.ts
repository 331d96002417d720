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
