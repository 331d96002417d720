// Each device's share of the server's writes: a sustained rate (bytes and events a second, with
// a burst of BURST_SECONDS' worth), shared by all its sockets on this instance, and a daily
// total (bytes, events, sessions opened; per UTC day on the server's clock), counted by the
// store in the transaction that stores them, so that it holds across restarts and instances.
//
// A message over the rate waits for it (back-pressure: its ack comes later, and the device,
// which keeps one batch in flight, slows to its share) when the wait is short; a device so far
// over it that the wait would be long, or over its daily total, is told so with CLOSE.quota and
// when to come back. Nothing it was acknowledged is lost; what was refused stays in its outbox.
import { CLOSE, LIMITS, retryReason } from '../src/sync/protocol';
import { DAY_MS, dayOf, type DeviceUsage } from './store';

export interface WriteLimits {
  /** Sustained payload bytes a second per device (0: no limit). */
  readonly bytesPerSecond: number;
  /** Sustained events a second per device (0: no limit). */
  readonly eventsPerSecond: number;
  /** Payload bytes per device per UTC day (0: no limit). */
  readonly bytesPerDay: number;
  readonly eventsPerDay: number;
  /** New sessions per device per UTC day (0: no limit). */
  readonly sessionsPerDay: number;
}

export const DEFAULT_WRITE_LIMITS: WriteLimits = {
  bytesPerSecond: 1024 * 1024,
  eventsPerSecond: 500,
  bytesPerDay: 2 * 1024 * 1024 * 1024,
  eventsPerDay: 2_000_000,
  sessionsPerDay: 1_000,
};

/** A device may send this many seconds of its rate at once (a backlog after a reconnect). */
export const BURST_SECONDS = 2;
/**
 * Longest a message is held to keep a device to its rate (or, at a low rate, the time one
 * message of the largest size takes): a device that sends one message at a time is only ever
 * slowed; one that piles them up on several sockets is closed with CLOSE.quota beyond it.
 */
export const MAX_RATE_WAIT_MS = 2_000;

export type BudgetVerdict =
  /** Go on, after `waitMs` (0: at once). */
  | { readonly ok: true; readonly waitMs: number }
  | { readonly ok: false; readonly code: number; readonly reason: string; readonly retryAfterMs: number; readonly limit: 'rate' | 'daily' | 'sessions' };

const GO: BudgetVerdict = { ok: true, waitMs: 0 };

/** What a device is told when it reaches each quota (before `; retry in N s`), by quota. */
export const QUOTA_MESSAGES = {
  'write-rate': 'this device is sending faster than its share',
  'writes-per-day': 'this device has sent its share for today',
  'sessions-per-day': 'this device has opened its share of sessions for today',
} as const;
export type QuotaName = keyof typeof QUOTA_MESSAGES;

/** A token bucket that may go into debt by up to what a short wait repays. */
class Bucket {
  private tokens: number;
  private at: number;
  private readonly capacity: number;

  constructor(
    private readonly perSecond: number,
    atLeast: number,
    now: number,
  ) {
    this.capacity = Math.max(perSecond * BURST_SECONDS, atLeast);
    this.tokens = this.capacity;
    this.at = now;
  }

  /** How long `n` would have to wait, now. */
  waitFor(n: number, now: number): number {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.at) / 1000) * this.perSecond);
    this.at = now;
    return n <= this.tokens ? 0 : ((n - this.tokens) / this.perSecond) * 1000;
  }

  take(n: number): void {
    this.tokens -= n;
  }

  /** Refilled to the brim by now. */
  fullAt(now: number): boolean {
    return this.waitFor(0, now) === 0 && this.tokens >= this.capacity;
  }
}

interface DeviceBudget {
  bytes: Bucket | undefined;
  events: Bucket | undefined;
  /** The latest usage the store reported (this instance's writes and every other's). */
  usage: DeviceUsage | undefined;
}

export class WriteBudgets {
  readonly limits: WriteLimits;
  /** How long a message may be held for the rate before the device is closed instead. */
  readonly maxWaitMs: number;
  private readonly devices = new Map<string, DeviceBudget>();

  constructor(
    limits: Partial<WriteLimits> = {},
    private readonly now: () => number = Date.now,
  ) {
    this.limits = { ...DEFAULT_WRITE_LIMITS, ...limits };
    const { bytesPerSecond, eventsPerSecond } = this.limits;
    this.maxWaitMs = Math.max(
      MAX_RATE_WAIT_MS,
      bytesPerSecond > 0 ? (LIMITS.maxMessageBytes / bytesPerSecond) * 1000 : 0,
      eventsPerSecond > 0 ? (LIMITS.maxEventsPerMessage / eventsPerSecond) * 1000 : 0,
    );
  }

  private of(deviceId: string): DeviceBudget {
    let b = this.devices.get(deviceId);
    if (!b) {
      const now = this.now();
      const { bytesPerSecond, eventsPerSecond } = this.limits;
      b = {
        bytes: bytesPerSecond > 0 ? new Bucket(bytesPerSecond, LIMITS.maxMessageBytes, now) : undefined,
        events: eventsPerSecond > 0 ? new Bucket(eventsPerSecond, LIMITS.maxEventsPerMessage, now) : undefined,
        usage: undefined,
      };
      this.devices.set(deviceId, b);
    }
    return b;
  }

  /** What the store says the device stored today (after each append, and at each hello). */
  record(deviceId: string, usage: DeviceUsage): void {
    const b = this.of(deviceId);
    if (!b.usage || usage.day > b.usage.day || (usage.day === b.usage.day && usage.bytes + usage.events + usage.sessions >= b.usage.bytes + b.usage.events + b.usage.sessions)) b.usage = usage;
  }

  /** Its usage today, as last reported; zeros on a new day. */
  private today(b: DeviceBudget): Omit<DeviceUsage, 'day'> & { day: number } {
    const day = dayOf(this.now());
    return b.usage && b.usage.day === day ? b.usage : { day, bytes: 0, events: 0, sessions: 0 };
  }

  private untilTomorrow(): number {
    const now = this.now();
    return (dayOf(now) + 1) * DAY_MS - now;
  }

  /** Over a daily total of stored bytes or events: nothing more is taken today. */
  daily(deviceId: string): BudgetVerdict {
    const used = this.today(this.of(deviceId));
    const { bytesPerDay, eventsPerDay } = this.limits;
    if ((bytesPerDay > 0 && used.bytes >= bytesPerDay) || (eventsPerDay > 0 && used.events >= eventsPerDay)) {
      const retryAfterMs = this.untilTomorrow();
      return { ok: false, code: CLOSE.quota, limit: 'daily', retryAfterMs, reason: retryReason(QUOTA_MESSAGES['writes-per-day'], retryAfterMs) };
    }
    return GO;
  }

  /** A hello for a session that does not exist yet: over the day's sessions, it is not opened. */
  newSession(deviceId: string): BudgetVerdict {
    const used = this.today(this.of(deviceId));
    const { sessionsPerDay } = this.limits;
    if (sessionsPerDay > 0 && used.sessions >= sessionsPerDay) {
      const retryAfterMs = this.untilTomorrow();
      return { ok: false, code: CLOSE.quota, limit: 'sessions', retryAfterMs, reason: retryReason(QUOTA_MESSAGES['sessions-per-day'], retryAfterMs) };
    }
    return GO;
  }

  /**
   * A message of `bytes` from a device, before it is parsed: refused at once when its daily total
   * is reached or its bytes alone are too far over its rate, so that a device over its share
   * costs no parsing. Takes nothing.
   */
  precheck(deviceId: string, bytes: number): BudgetVerdict {
    const daily = this.daily(deviceId);
    if (!daily.ok) return daily;
    const waitMs = this.of(deviceId).bytes?.waitFor(bytes, this.now()) ?? 0;
    return waitMs > this.maxWaitMs ? this.tooFast(waitMs) : GO;
  }

  /** An events message of `bytes` bytes and `events` events: its daily total, then its rate (taken from the buckets when it goes on). */
  events(deviceId: string, bytes: number, events: number): BudgetVerdict {
    const daily = this.daily(deviceId);
    if (!daily.ok) return daily;
    const b = this.of(deviceId);
    const now = this.now();
    const waitMs = Math.max(b.bytes?.waitFor(bytes, now) ?? 0, b.events?.waitFor(events, now) ?? 0);
    // Refused: it takes nothing from the buckets, and may come back once they have refilled.
    if (waitMs > this.maxWaitMs) return this.tooFast(waitMs);
    b.bytes?.take(bytes);
    b.events?.take(events);
    return waitMs > 0 ? { ok: true, waitMs: Math.ceil(waitMs) } : GO;
  }

  private tooFast(waitMs: number): BudgetVerdict {
    const retryAfterMs = Math.ceil(waitMs);
    return { ok: false, code: CLOSE.quota, limit: 'rate', retryAfterMs, reason: retryReason(QUOTA_MESSAGES['write-rate'], retryAfterMs) };
  }

  /** Forgets devices with full buckets and nothing counted today: the map does not grow with every device ever seen. */
  prune(): void {
    const now = this.now();
    const day = dayOf(now);
    for (const [id, b] of this.devices) if ((b.bytes?.fullAt(now) ?? true) && (b.events?.fullAt(now) ?? true) && (!b.usage || b.usage.day < day)) this.devices.delete(id);
  }

  get size(): number {
    return this.devices.size;
  }
}
