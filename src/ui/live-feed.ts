import { reconnecting } from '../sync/backoff';
import { CLOSE } from '../sync/protocol';
import { LiveServerMessageSchema, type LiveClientMessage } from '../sync/live-protocol';
import { parseBounded } from '../sync/bounded-json';
import { type SessionSummary } from '../sync/trainer-api';
import { SignedOut } from './dashboard/api';

// Declared beside the HTTP client, which meets the same refusal.
export { SignedOut };

export interface LiveFeedHandlers {
  /** Summaries that changed; the first call after a (re)connect is the first page. */
  readonly onSessions: (sessions: readonly SessionSummary[]) => void;
  readonly onStatus: (status: 'live' | 'reconnecting…') => void;
  readonly onSignedOut: () => void;
}

/**
 * The dashboard's live feed (`/live`): authenticated by its first message (never the URL),
 * reconnected with the app's one backoff policy, ended for good on 4401.
 */
export class LiveFeed {
  private readonly abort = new AbortController();

  constructor(private readonly token: string, private readonly on: LiveFeedHandlers) {
    void reconnecting(() => this.once(), {
      signal: this.abort.signal,
      isFatal: (err) => err instanceof SignedOut,
      onFailure: () => this.on.onStatus('reconnecting…'),
    }).catch((err: unknown) => {
      if (err instanceof SignedOut && !this.abort.signal.aborted) this.on.onSignedOut();
    });
  }

  stop(): void {
    this.abort.abort();
  }

  /** Resolves when a feed that was live ends (reconnect at once); throws when it never got going. */
  private once(): Promise<void> {
    const signal = this.abort.signal;
    return new Promise((resolve, reject) => {
      const url = new URL('/live', location.href);
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
      const ws = new WebSocket(url);
      let live = false;
      const onAbort = () => ws.close(1000, 'signed out');
      signal.addEventListener('abort', onAbort, { once: true });
      ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', token: this.token } satisfies LiveClientMessage));
      ws.onmessage = (e) => {
        const parsed = typeof e.data === 'string' ? parseBounded(LiveServerMessageSchema, e.data, 4 * 1024 * 1024) : undefined;
        if (!parsed?.ok) return;
        if (!live) {
          live = true;
          this.on.onStatus('live');
        }
        this.on.onSessions(parsed.msg.sessions);
      };
      ws.onclose = (e) => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) return resolve();
        if (e.code === CLOSE.unauthorised) return reject(new SignedOut());
        this.on.onStatus('reconnecting…');
        if (live) resolve();
        else reject(new Error(`live feed closed (${e.code})`));
      };
    });
  }
}
