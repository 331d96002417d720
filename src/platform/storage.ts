// The browser's storage refusing a write because the origin is out of quota: the one check
// every IndexedDB writer (the outbox, the task store) uses to say so in words.
export function isQuotaExceeded(err: unknown): boolean {
  const name = err instanceof DOMException ? err.name : (err as { name?: unknown } | null)?.name;
  return name === 'QuotaExceededError';
}

/** What the page hears when another tab of the app holds the same database at another version. */
export interface VersionChange {
  /** This open waits: another tab holds an older version open and did not let go. */
  readonly blocked?: () => void;
  /** Another tab opened a newer version: this tab's connection was closed so that it can upgrade. */
  readonly replaced?: () => void;
}

/**
 * idb's open callbacks for `change`: a connection that blocks a newer version closes itself
 * (else the other tab's upgrade stalls until this one is closed), and both cases are told.
 */
export function versionChangeCallbacks(change: VersionChange, connection: () => { close(): void } | undefined) {
  return {
    blocked: () => change.blocked?.(),
    blocking: () => {
      connection()?.close();
      change.replaced?.();
    },
  };
}

/** What a tab says when another tab of the app holds its database at another version. */
export const STORAGE_TAKEN_OVER = (say: (message: string) => void): VersionChange => ({
  blocked: () => say('Another tab has Framewise open with an older version of its saved data: close or reload that tab so this one can open it.'),
  replaced: () => say('A newer version of Framewise was opened in another tab: reload this tab to keep saving here.'),
});
