// The browser's storage refusing a write because the origin is out of quota: the one check
// every IndexedDB writer (the outbox, the task store) uses to say so in words.
export function isQuotaExceeded(err: unknown): boolean {
  const name = err instanceof DOMException ? err.name : (err as { name?: unknown } | null)?.name;
  return name === 'QuotaExceededError';
}
