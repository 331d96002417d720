import { CLOSE, parseServerMessage, type ClientMessage, type ServerMessage } from './protocol';

/** The socket closed: with the code and reason the backend (or the browser) gave. */
export class SocketClosed extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
  ) {
    super(`connection closed (${code}${reason ? `: ${reason}` : ''})`);
  }
}

/** One WebSocket: parsed, schema-checked replies, waited for by type and session. */
export class Connection {
  private readonly inbox: ServerMessage[] = [];
  private readonly waiters = new Set<() => void>();
  private failure: Error | undefined;
  readonly closed: Promise<void>;

  private constructor(private readonly ws: WebSocket) {
    let onClosed!: () => void;
    this.closed = new Promise((r) => (onClosed = r));
    ws.onmessage = (e) => {
      const parsed = typeof e.data === 'string' ? parseServerMessage(e.data) : ({ ok: false, reason: 'binary message' } as const);
      if (!parsed.ok) {
        this.fail(new Error(`the backend sent an unreadable reply (${parsed.reason})`));
        ws.close(CLOSE.invalid, 'unreadable reply');
        return;
      }
      // A backend that floods replies nobody waits for must not grow this without bound.
      if (this.inbox.length >= 64) this.inbox.shift();
      this.inbox.push(parsed.msg);
      this.wake();
    };
    ws.onclose = (e) => {
      this.fail(new SocketClosed(e.code, e.reason));
      onClosed();
    };
  }

  /** `protocols`: a device offers [SYNC_SUBPROTOCOL, its token], so that the backend knows it at the upgrade. */
  static open(url: string, signal: AbortSignal, timeoutMs: number, protocols?: string[]): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const ws = protocols ? new WebSocket(url, protocols) : new WebSocket(url);
      const conn = new Connection(ws);
      const timer = setTimeout(() => {
        ws.close();
        reject(new Error(`the sync server did not answer within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      const onAbort = () => ws.close(1000, 'stopped');
      signal.addEventListener('abort', onAbort, { once: true });
      ws.onopen = () => {
        clearTimeout(timer);
        resolve(conn);
      };
      void conn.closed.then(() => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        // Never opened: name the likely cause rather than a bare 1006.
        const f = conn.failure;
        reject(f instanceof SocketClosed && f.code === 1006 ? new Error('cannot reach the sync server') : f);
      });
    });
  }

  send(m: ClientMessage): void {
    this.check();
    this.ws.send(JSON.stringify(m));
  }

  /** Throws why the connection is unusable, if it is. */
  check(): void {
    if (this.failure) throw this.failure;
  }

  async receive<T extends ServerMessage['type']>(type: T, sessionId: string, timeoutMs: number): Promise<Extract<ServerMessage, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.inbox.findIndex((m) => m.type === type && m.sessionId === sessionId);
      if (i >= 0) return this.inbox.splice(i, 1)[0] as Extract<ServerMessage, { type: T }>;
      this.check();
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${type} from the backend within ${timeoutMs / 1000} s`);
      await new Promise<void>((r) => {
        const t = setTimeout(done, left);
        this.waiters.add(done);
        function done() {
          clearTimeout(t);
          r();
        }
      });
    }
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState === WebSocket.CONNECTING || this.ws.readyState === WebSocket.OPEN) this.ws.close(code, reason);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.wake();
  }

  private wake(): void {
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) w();
  }
}
