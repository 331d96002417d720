import type { DropPolicy } from '@framewise/pipeline';
import { DEFAULT_CONFIG, validateConfig, type JudgeSource, type PipelineConfig } from './vision/config';
import type { ProviderPreference } from './model/provider';
import { LIMITS } from './sync/protocol';

/** What a person can change in Settings; kept in localStorage (never a secret), applied over the defaults (URL parameters win). */
export interface Settings {
  /**
   * The pipeline's layout: `auto`, the one calibrated for this device and model (the default
   * until one is); `manual`, `poolSize` × `threadsPerWorker` as set here.
   */
  readonly layout: 'auto' | 'manual';
  readonly poolSize: number;
  /** WASM threads per worker when the layout is manual; 0 = share the cores out. */
  readonly threadsPerWorker: number;
  readonly locPolicy: DropPolicy;
  readonly locCapacity: number;
  readonly stateRate: number;
  /** What the task is judged on: the overlay's detections, or the judge's own run of a model. */
  readonly judge: JudgeSource;
  readonly scoreThreshold: number;
  readonly provider: ProviderPreference;
  /** ws:// or wss:// sync endpoint; empty: the backend that served the app, if any. */
  readonly backendUrl: string;
  /** How the backend's operator will see this device; empty: derived from the platform. */
  readonly deviceName: string;
  /** The operator's enrolment code, for a backend that requires one. Used once to enrol; never stored. */
  readonly enrollCode: string;
}

const KEY = 'framewise-settings';
const KEPT: readonly (keyof Settings)[] = ['layout', 'poolSize', 'threadsPerWorker', 'locPolicy', 'locCapacity', 'stateRate', 'judge', 'scoreThreshold', 'provider', 'backendUrl', 'deviceName'];

export function settingsFrom(c: PipelineConfig, backendUrl = ''): Settings {
  return { layout: 'auto', poolSize: c.poolSize, threadsPerWorker: c.threadsPerWorker, locPolicy: c.localization.policy, locCapacity: c.localization.capacity, stateRate: c.state.maxRate, judge: c.judge, scoreThreshold: c.scoreThreshold, provider: c.provider, backendUrl, deviceName: '', enrollCode: '' };
}

/** The settings over `base`; an automatic layout keeps base's pool and threads (the layout controller sets them). */
export function applySettings(base: PipelineConfig, s: Settings): PipelineConfig {
  const layout = s.layout === 'manual' ? { poolSize: s.poolSize, threadsPerWorker: s.threadsPerWorker } : {};
  return { ...base, ...layout, localization: { policy: s.locPolicy, capacity: s.locCapacity }, state: { ...base.state, maxRate: s.stateRate }, judge: s.judge, scoreThreshold: s.scoreThreshold, provider: s.provider };
}

/** Every problem, by field; empty when the settings can be applied. */
export function validateSettings(s: Settings): string[] {
  const problems = validateConfig(applySettings(DEFAULT_CONFIG, { ...s, layout: 'manual' }));
  if (s.layout !== 'auto' && s.layout !== 'manual') problems.push(`layout must be auto or manual, got "${String(s.layout)}"`);
  if (s.backendUrl) {
    try {
      const u = new URL(s.backendUrl);
      if (u.protocol !== 'ws:' && u.protocol !== 'wss:') problems.push(`backend URL must start with ws:// or wss://, got ${u.protocol}`);
      else if (u.username || u.password || u.search) problems.push('backend URL must not carry a user, password or query: this device enrols and keeps its own credential');
    } catch {
      problems.push(`backend URL "${s.backendUrl}" is not a URL`);
    }
  }
  if (s.deviceName.trim().length > 80) problems.push(`device name is at most 80 characters, got ${s.deviceName.trim().length}`);
  if (s.enrollCode.length > LIMITS.maxTokenChars) problems.push(`enrolment code is at most ${LIMITS.maxTokenChars} characters`);
  return problems;
}

export function loadSettings(storage: Pick<Storage, 'getItem'> & Partial<Pick<Storage, 'setItem'>> = localStorage): Settings | undefined {
  try {
    const raw = storage.getItem(KEY);
    if (!raw) return undefined;
    const stored = JSON.parse(raw) as Record<string, unknown>;
    // Saved before layouts were calibrated: a pool other than the default was a person's choice.
    const layout = stored.layout ?? (stored.poolSize !== undefined && stored.poolSize !== DEFAULT_CONFIG.poolSize ? 'manual' : 'auto');
    const s = { ...settingsFrom(DEFAULT_CONFIG), ...pick(stored), layout } as Settings;
    // Earlier versions kept a backend token here: it is dropped, never read.
    if ('token' in stored && storage.setItem) saveSettings(s, storage as Pick<Storage, 'setItem'>);
    return validateSettings(s).length === 0 ? s : undefined; // a stale or tampered entry is ignored, not fatal
  } catch {
    return undefined;
  }
}

export function saveSettings(s: Settings, storage: Pick<Storage, 'setItem'> = localStorage): void {
  storage.setItem(KEY, JSON.stringify(pick(s as unknown as Record<string, unknown>)));
}

function pick(o: Record<string, unknown>): Partial<Settings> {
  const out: Record<string, unknown> = {};
  for (const k of KEPT) if (k in o) out[k] = o[k];
  return out as Partial<Settings>;
}
