import type { Provider, ProviderPreference } from '../../model/provider';

export interface ProviderChoice {
  readonly provider: Provider;
  readonly reason: string;
}

/**
 * WebGPU when a real adapter is there, else WASM. On `auto`, a software adapter
 * (SwiftShader) counts as none: it runs the detector far slower than WASM does.
 */
export async function chooseProvider(pref: ProviderPreference): Promise<ProviderChoice> {
  if (pref === 'wasm') return { provider: 'wasm', reason: 'WASM requested' };
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return fallback(pref, 'this browser has no WebGPU');
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (err) {
    return fallback(pref, `no WebGPU adapter (${String(err)})`);
  }
  if (!adapter) return fallback(pref, 'no WebGPU adapter');
  const software = (adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  if (software && pref === 'auto') return { provider: 'wasm', reason: 'the only WebGPU adapter is a software fallback, slower than WASM' };
  const name = [adapter.info.vendor, adapter.info.architecture, adapter.info.description].filter(Boolean).join(' ') || 'unnamed adapter';
  return { provider: 'webgpu', reason: `${pref === 'webgpu' ? 'WebGPU requested' : 'WebGPU adapter found'}: ${name}${software ? ' (software)' : ''}` };
}

function fallback(pref: ProviderPreference, why: string): ProviderChoice {
  return { provider: 'wasm', reason: pref === 'webgpu' ? `WebGPU requested but ${why}: using WASM` : `${why}: using WASM` };
}
