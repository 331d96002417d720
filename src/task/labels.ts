import { assertNever } from '../util/assert-never';
import { type Task } from './types';

/**
 * The labels a task needs the detector to know: every required object, every relation's
 * subject and object, every derail rule's label, in order of first use. Derived rather than
 * declared in the task: a declared list could disagree with the steps, and every task already
 * written (built-in or saved) would need one added.
 */
export function labelsOf(task: Task): string[] {
  const out = new Set<string>();
  for (const step of task.steps) {
    switch (step.kind) {
      case undefined:
      case 'see':
        for (const r of step.require) out.add(r.label);
        for (const rel of step.relations ?? []) {
          out.add(rel.subject);
          if (rel.relation !== 'inside') out.add(rel.object);
        }
        break;
      case 'confirm':
      case 'wait':
        // Nothing to see: such a step needs no label.
        break;
      default:
        assertNever(step);
    }
  }
  for (const d of task.derail ?? []) out.add(d.label);
  return [...out];
}

/** The labels `task` needs that a model with `labels` does not detect, in order of first use. */
export function missingLabels(task: Task, labels: readonly string[]): string[] {
  const known = new Set(labels);
  return labelsOf(task).filter((l) => !known.has(l));
}

/** Why a task cannot run on a model, or undefined when it can: `This task needs "cup", "laptop", which the model "parts.onnx" does not detect`. */
export function unsupportedTask(task: Task, model: { readonly name: string; readonly labels: readonly string[] }): string | undefined {
  const missing = missingLabels(task, model.labels);
  if (missing.length === 0) return undefined;
  return `The task "${task.title}" needs ${missing.map((l) => `"${l}"`).join(', ')}, which the model "${model.name}" does not detect. Choose a model that does, or another task.`;
}
