/** Model bytes from a URL, kept in Cache Storage so that a reload offline still detects. */
const CACHE = 'framewise-models-v1';

export class ModelLoadError extends Error {}

export async function loadModelBytes(url: string): Promise<ArrayBuffer> {
  const cache = typeof caches !== 'undefined' ? await caches.open(CACHE).catch(() => undefined) : undefined;
  const cached = await cache?.match(url);
  if (cached) return cached.arrayBuffer();
  let res: Response;
  try {
    res = await fetch(url);
  } catch (err) {
    throw new ModelLoadError(`the model could not be downloaded from ${url} (${err instanceof Error ? err.message : String(err)}); check the address and the network`);
  }
  if (!res.ok) throw new ModelLoadError(`the model could not be downloaded from ${url}: HTTP ${res.status} ${res.statusText}`);
  const bytes = await res.arrayBuffer();
  assertLooksLikeOnnx(bytes, url);
  await cache?.put(url, new Response(bytes.slice(0), { headers: { 'content-type': 'application/octet-stream' } })).catch(() => {
    // A full cache only costs the offline copy; detection goes on.
  });
  return bytes;
}

/** An ONNX file is a protobuf ModelProto whose first field is ir_version (tag 0x08). */
export function assertLooksLikeOnnx(bytes: ArrayBuffer, name: string): void {
  const head = new Uint8Array(bytes, 0, Math.min(bytes.byteLength, 1));
  if (bytes.byteLength < 16 || head[0] !== 0x08) {
    throw new ModelLoadError(`${name} is not an ONNX model (${bytes.byteLength} bytes, starting ${[...new Uint8Array(bytes, 0, Math.min(4, bytes.byteLength))].map((b) => b.toString(16).padStart(2, '0')).join(' ') || 'with nothing'})`);
  }
}
