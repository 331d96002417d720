/** Which execution provider a worker runs the model on, and why: shown in the HUD. */
export const PROVIDERS = ['webgpu', 'wasm'] as const;
export type Provider = (typeof PROVIDERS)[number];
/** What a person (or a URL, or the benchmark) may ask for: `auto` is WebGPU on a real adapter, else WASM. */
export const PROVIDER_PREFERENCES = ['auto', ...PROVIDERS] as const;
export type ProviderPreference = (typeof PROVIDER_PREFERENCES)[number];
