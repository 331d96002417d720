import { registerSW } from 'virtual:pwa-register';

/**
 * Registers the service worker. When a new version is waiting, `onUpdate` is told and
 * given the function that applies it; the app decides when (never mid-session).
 */
export function registerServiceWorker(onUpdate: (apply: () => Promise<void>) => void, onOfflineReady: () => void): void {
  if (!('serviceWorker' in navigator) || import.meta.env.DEV) return;
  const update = registerSW({
    onNeedRefresh: () =>
      onUpdate(async () => {
        await update(true);
        // A page the old worker never controlled gets no 'controlling' event to reload on.
        if (!navigator.serviceWorker.controller) location.reload();
      }),
    onOfflineReady,
  });
}
