import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { SessionSummary } from '../../sync/trainer-api';
import { LiveFeed } from '../live-feed';
import type { Subscribable } from './subscription';

export type FeedStatus = 'off' | 'connecting' | 'live' | 'reconnecting…';

/**
 * The dashboard's one `/live` socket, shared by everything on the page that shows sessions:
 * each view subscribes to the upserts instead of opening a socket of its own. Closed when the
 * host leaves the page or the person signs out; opened again if the host comes back.
 */
export class DashboardFeedController implements ReactiveController, Subscribable<readonly SessionSummary[]> {
  status: FeedStatus = 'off';
  private feed: LiveFeed | undefined;
  private token: string | undefined;
  private readonly listeners = new Set<(sessions: readonly SessionSummary[]) => void>();

  constructor(private readonly host: ReactiveControllerHost, private readonly onSignedOut: () => void) {
    host.addController(this);
  }

  hostConnected(): void {
    if (this.token && !this.feed) this.open(this.token);
  }

  hostDisconnected(): void {
    this.feed?.stop();
    this.feed = undefined;
    this.status = 'off';
  }

  connect(token: string): void {
    this.token = token;
    this.open(token);
  }

  /** Signing out: the socket closes and is not opened again. */
  disconnect(): void {
    this.token = undefined;
    this.hostDisconnected();
    this.host.requestUpdate();
  }

  subscribe(listener: (sessions: readonly SessionSummary[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private open(token: string): void {
    this.feed?.stop();
    this.status = 'connecting';
    const feed = new LiveFeed(token, {
      onSessions: (sessions) => {
        for (const listener of [...this.listeners]) listener(sessions);
      },
      onStatus: (status) => {
        if (this.feed !== feed) return;
        this.status = status;
        this.host.requestUpdate();
      },
      // A feed replaced or stopped since says nothing about the current credential.
      onSignedOut: () => this.feed === feed && this.onSignedOut(),
    });
    this.feed = feed;
    this.host.requestUpdate();
  }
}
