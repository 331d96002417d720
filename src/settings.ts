import { DEFAULT_CONFIG, validateConfig, type PipelineConfig } from './pipeline/config';
import type { DropPolicy } from './shared/protocol';
import type { ProviderPreference } from './model/provider';

/** What a person can change in Settings; kept in localStorage, applied over the defaults (URL parameters win). */
export interface Settings {
  readonly poolSize: number;
  readonly locPolicy: DropPolicy;
  readonly locCapacity: number;
  readonly stateRate: number;
  readonly scoreThreshold: number;
  readonly provider: ProviderPreference;
  /** ws:// or wss:// sync endpoint; empty: the backend that served the app, if any. */
  readonly backendUrl: string;
  readonly token: string;
}

const KEY = 'framewise-settings';

export function settingsFrom(c: PipelineConfig, backendUrl = '', token = ''): Settings {
  return { poolSize: c.poolSize, locPolicy: c.localization.policy, locCapacity: c.localization.capacity, stateRate: c.state.maxRate, scoreThreshold: c.scoreThreshold, provider: c.provider, backendUrl, token };
}

export function applySettings(base: PipelineConfig, s: Settings): PipelineConfig {
  return { ...base, poolSize: s.poolSize, localization: { policy: s.locPolicy, capacity: s.locCapacity }, state: { ...base.state, maxRate: s.stateRate }, scoreThreshold: s.scoreThreshold, provider: s.provider };
}

/** Every problem, by field; empty when the settings can be applied. */
export function validateSettings(s: Settings): string[] {
  const problems = validateConfig(applySettings(DEFAULT_CONFIG, s));
  if (s.backendUrl) {
    try {
      const u = new URL(s.backendUrl);
      if (u.protocol !== 'ws:' && u.protocol !== 'wss:') problems.push(`backend URL must start with ws:// or wss://, got ${u.protocol}`);
    } catch {
      problems.push(`backend URL "${s.backendUrl}" is not a URL`);
    }
    if (!s.token) problems.push('a backend URL needs its token');
  }
  return problems;
}

export function loadSettings(storage: Pick<Storage, 'getItem'> = localStorage): Settings | undefined {
  try {
    const raw = storage.getItem(KEY);
    if (!raw) return undefined;
    const s = { ...settingsFrom(DEFAULT_CONFIG), ...(JSON.parse(raw) as Partial<Settings>) };
    return validateSettings(s).length === 0 ? s : undefined; // a stale or tampered entry is ignored, not fatal
  } catch {
    return undefined;
  }
}

export function saveSettings(s: Settings, storage: Pick<Storage, 'setItem'> = localStorage): void {
  storage.setItem(KEY, JSON.stringify(s));
}
