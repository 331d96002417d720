// Per-task figures across sessions, from the facts each session's summary keeps: no event is read.
import type { StepAggregate, TaskAggregate } from '../src/sync/trainer-api';
import { builtin, stepInstructions, type SessionFacts } from './session-facts';

/** The p-quantile (0–1) of ascending numbers, interpolating linearly between the closest ranks; null for none. */
export function quantile(ascending: readonly number[], p: number): number | null {
  if (!ascending.length) return null;
  const rank = (ascending.length - 1) * p;
  const below = Math.floor(rank);
  const above = Math.ceil(rank);
  return ascending[below]! + (ascending[above]! - ascending[below]!) * (rank - below);
}

/**
 * `sessions`: every session of one definition of a task (`taskKey`), newest first. A built-in
 * task's title, steps and instructions are the server's own, whatever its sessions' facts say; a
 * custom task's are those its sessions recorded, the same in each, since the key is their hash.
 */
export function taskAggregate(taskKey: string, sessions: readonly SessionFacts[]): TaskAggregate {
  const known = builtin(taskKey);
  let steps = 0;
  for (const f of sessions) {
    steps = Math.max(steps, f.stepsTotal ?? 0);
    for (const s of f.steps) steps = Math.max(steps, s.index + 1);
  }
  if (known) steps = known.steps.length;
  const instructions = known ? known.steps.map((s) => s.instruction) : sessions.map(stepInstructions).find((list) => list !== undefined);
  const rows = Array.from({ length: steps }, (_, index): StepAggregate => {
    const times: number[] = [];
    let derailments = 0;
    let derailedSessions = 0;
    let derailedMs = 0;
    for (const f of sessions) {
      const s = f.steps.find((x) => x.index === index);
      if (!s) continue;
      if (s.completedTs !== null && Number.isFinite(s.completedTs - s.startedTs)) times.push(s.completedTs - s.startedTs);
      derailments += s.derailments;
      if (s.derailments > 0) derailedSessions++;
      if (Number.isFinite(derailedMs + s.derailedMs)) derailedMs += s.derailedMs;
    }
    times.sort((a, b) => a - b);
    return { index, instruction: instructions?.[index] ?? null, timed: times.length, medianMs: quantile(times, 0.5), p90Ms: quantile(times, 0.9), derailments, derailedSessions, derailedMs };
  });
  return {
    taskKey,
    taskId: known?.id ?? sessions.find((f) => f.taskId !== null)?.taskId ?? taskKey,
    taskTitle: known?.title ?? sessions.find((f) => f.taskTitle !== null)?.taskTitle ?? null,
    sessions: sessions.length,
    completed: sessions.filter((f) => f.completedTs !== null).length,
    steps: rows,
    mostDerailed: rows
      .filter((r) => r.derailments > 0)
      .sort((a, b) => b.derailments - a.derailments || a.index - b.index)
      .map((r) => r.index),
  };
}
