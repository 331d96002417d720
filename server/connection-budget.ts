// Who may hold the server's connections. Every TCP connection holds exactly one slot in one
// share, from accept until it closes:
//   - general: anyone, before or without a credential (idle sockets, the app's files, enrolment,
//     a sync socket before its hello); at most `general`, and `perAddress` per client address;
//   - devices: sync sockets that proved a device token (at the upgrade, or by their hello);
//   - admin: connections that showed the admin token; not counted per address;
//   - probation: accepted although general (or the address) was full, because at accept nobody
//     can tell an admin or a device from a stranger. The first request must show a credential
//     that has a share with room; a stranger gets 503 and a silent one is closed after
//     `probationMs`. When probation is full, the oldest slot of the address holding the most
//     is closed to make room, so a flood from a few addresses cannot keep the admin out.
// Unproven connections can therefore never take the devices' or the admin's share. Per address
// means per client: behind a trusted proxy the forwarded client counts, not the proxy.
import type { Socket } from 'node:net';

export type Share = 'general' | 'devices' | 'admin' | 'probation';

export interface BudgetLimits {
  /** Connections without a credential, in all (FRAMEWISE_MAX_CONNECTIONS). */
  readonly general: number;
  /** Non-admin connections per client address (FRAMEWISE_MAX_CONNECTIONS_PER_IP). */
  readonly perAddress: number;
  /** Reserved for devices' sync sockets (FRAMEWISE_DEVICE_CONNECTIONS). */
  readonly devices: number;
  /** Reserved for the admin (FRAMEWISE_ADMIN_CONNECTIONS). */
  readonly admin: number;
  readonly probation: number;
  readonly probationMs: number;
  /** Whether a peer is a trusted proxy, whose connections count against the client it forwards. */
  readonly isProxy: (ip: string) => boolean;
}

export interface BudgetCounters {
  /** TCP connections open now, in every share. */
  openConnections: number;
  /** Closed or answered 503 by a cap: on probation and silent, evicted, or refused at the first request. */
  refusedConnections: number;
  /** Connections in each share now. */
  connectionsGeneral: number;
  connectionsDevices: number;
  connectionsAdmin: number;
  connectionsProbation: number;
}

const FIELD = { general: 'connectionsGeneral', devices: 'connectionsDevices', admin: 'connectionsAdmin', probation: 'connectionsProbation' } as const satisfies Record<Share, keyof BudgetCounters>;

/** Why a connection was turned away: the answer to send (503), and then it is closed. */
export interface Refusal {
  readonly status: 503;
  readonly error: string;
}

/** Which cap turned a connection away, as counted in the metrics (framewise_limits_hit_total{limit}). */
export type ConnectionLimit = 'connections-general' | 'connections-per-address' | 'connections-devices' | 'connections-admin' | 'connections-probation';

/** Told once per connection turned away: the cap, and the client address it counted against (else its peer). */
export type OnRefused = (limit: ConnectionLimit, address: string) => void;

interface Slot {
  readonly socket: Socket;
  readonly peer: string;
  share: Share;
  /** The client address it counts against; undefined: none (admin, on probation, or a proxy's before its first request). */
  client: string | undefined;
  /** On probation because the address was at its cap (else because general was full). */
  addressFull: boolean;
  /** On probation and has sent a request: no longer closed for silence, still evictable. */
  spoke: boolean;
  /** Answered 503; closed once the answer is out (or by the probation timer). */
  refused: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export class ConnectionBudget {
  private readonly slots = new WeakMap<Socket, Slot>();
  private readonly perClient = new Map<string, number>();
  /** Probation slots per peer, oldest first. */
  private readonly probation = new Map<string, Set<Slot>>();

  constructor(
    readonly limits: BudgetLimits,
    private readonly stats: BudgetCounters,
    private readonly onRefused: OnRefused = () => {},
  ) {}

  /** Connections in a share now. */
  inShare(share: Share): number {
    return this.stats[FIELD[share]];
  }

  private add(share: Share, n: 1 | -1): void {
    this.stats[FIELD[share]] += n;
  }

  /** Non-admin connections counted against a client address now. */
  ofAddress(client: string): number {
    return this.perClient.get(client) ?? 0;
  }

  /** A new TCP connection from `peer` (normalised): takes a general slot, or one on probation. */
  accept(socket: Socket, peer: string): void {
    const { limits } = this;
    const proxied = limits.isProxy(peer);
    const addressFull = !proxied && this.ofAddress(peer) >= limits.perAddress;
    const slot: Slot = { socket, peer, share: 'general', client: undefined, addressFull, spoke: false, refused: false, timer: undefined };
    this.stats.openConnections++;
    this.slots.set(socket, slot);
    socket.once('close', () => this.release(slot));
    if (!addressFull && this.inShare('general') < limits.general) {
      this.add('general', 1);
      if (!proxied) this.count(slot, peer);
      return;
    }
    if (this.inShare('probation') >= limits.probation) this.evict();
    slot.share = 'probation';
    this.add('probation', 1);
    let mine = this.probation.get(peer);
    if (!mine) this.probation.set(peer, (mine = new Set()));
    mine.add(slot);
    slot.timer = setTimeout(() => {
      if (slot.share === 'probation' && (!slot.spoke || slot.refused)) this.close(slot);
    }, limits.probationMs);
    slot.timer.unref?.();
  }

  /**
   * Every request, first thing: `client` is the resolved client address, `admin` whether it
   * showed the admin token, `offersDevice` whether it is a sync upgrade offering a device token
   * (decided by `proveDevice` once checked). A refusal is answered and the connection closed.
   */
  admitRequest(socket: Socket, client: string, proof: { admin: boolean; offersDevice: boolean }): Refusal | undefined {
    const slot = this.slots.get(socket);
    if (!slot || slot.share === 'admin' || slot.share === 'devices') return undefined;
    if (proof.admin) return this.toAdmin(slot);
    if (slot.share === 'probation') {
      if (proof.offersDevice) {
        slot.spoke = true;
        return undefined;
      }
      return this.refuseFull(slot);
    }
    return this.attribute(slot, client);
  }

  /** The connection proved a device (a checked token at the upgrade, or a hello): into the devices' share if it has room. */
  proveDevice(socket: Socket, client: string): Refusal | undefined {
    const slot = this.slots.get(socket);
    if (!slot || slot.share === 'admin' || slot.share === 'devices') return undefined;
    if (slot.share === 'general') {
      if (this.inShare('devices') < this.limits.devices) this.move(slot, 'devices');
      return undefined;
    }
    // On probation: only the devices' share can take it, and only within the address's cap.
    if (slot.addressFull || this.ofAddress(client) >= this.limits.perAddress) return this.refuse(slot, 'connections-per-address', this.addressReason());
    if (this.inShare('devices') >= this.limits.devices) {
      return this.refuse(slot, 'connections-devices', `the server holds its most device connections (${this.limits.devices}, FRAMEWISE_DEVICE_CONNECTIONS) and ${this.limits.general} others; retry shortly`);
    }
    this.move(slot, 'devices');
    this.count(slot, client);
    return undefined;
  }

  /** Whether the connection is on probation (it must prove a credential to stay). */
  onProbation(socket: Socket): boolean {
    return this.slots.get(socket)?.share === 'probation';
  }

  /** Turns a connection on probation away (its credential did not check out). */
  refuseProbation(socket: Socket): Refusal | undefined {
    const slot = this.slots.get(socket);
    return slot?.share === 'probation' ? this.refuseFull(slot) : undefined;
  }

  private toAdmin(slot: Slot): Refusal | undefined {
    this.uncount(slot);
    if (this.inShare('admin') < this.limits.admin) this.move(slot, 'admin');
    else if (slot.share === 'probation') {
      if (this.inShare('general') >= this.limits.general) return this.refuse(slot, 'connections-admin', `the admin already holds ${this.limits.admin} connections (FRAMEWISE_ADMIN_CONNECTIONS) and the server is full; close one`);
      this.move(slot, 'general');
    }
    return undefined;
  }

  /** A general slot's request from `client`: counted against that client (behind a proxy, it may change from one request to the next). */
  private attribute(slot: Slot, client: string): Refusal | undefined {
    if (slot.client === client) return undefined;
    this.uncount(slot);
    if (this.ofAddress(client) >= this.limits.perAddress) return this.refuse(slot, 'connections-per-address', this.addressReason());
    this.count(slot, client);
    return undefined;
  }

  /** On probation with nothing that proves it: the cap that put it there. */
  private refuseFull(slot: Slot): Refusal {
    return slot.addressFull
      ? this.refuse(slot, 'connections-per-address', this.addressReason())
      : this.refuse(slot, 'connections-general', `the server holds its most connections without a credential (${this.limits.general}, FRAMEWISE_MAX_CONNECTIONS); retry shortly`);
  }

  private addressReason(): string {
    return `this address holds its most connections (${this.limits.perAddress}, FRAMEWISE_MAX_CONNECTIONS_PER_IP); close one`;
  }

  private refuse(slot: Slot, limit: ConnectionLimit, error: string): Refusal {
    const address = slot.client ?? slot.peer;
    // Answered, then closed: it no longer counts against its address meanwhile.
    this.uncount(slot);
    // Counted once per connection, however many requests it had pipelined.
    if (!slot.refused) {
      this.stats.refusedConnections++;
      this.onRefused(limit, address);
    }
    slot.refused = true;
    return { status: 503, error };
  }

  private count(slot: Slot, client: string): void {
    slot.client = client;
    this.perClient.set(client, this.ofAddress(client) + 1);
  }

  private uncount(slot: Slot): void {
    if (slot.client === undefined) return;
    const left = this.ofAddress(slot.client) - 1;
    if (left > 0) this.perClient.set(slot.client, left);
    else this.perClient.delete(slot.client);
    slot.client = undefined;
  }

  private move(slot: Slot, to: Share): void {
    this.clearProbation(slot);
    this.add(slot.share, -1);
    slot.share = to;
    this.add(to, 1);
  }

  private clearProbation(slot: Slot): void {
    clearTimeout(slot.timer);
    slot.timer = undefined;
    const mine = this.probation.get(slot.peer);
    if (mine?.delete(slot) && mine.size === 0) this.probation.delete(slot.peer);
  }

  /** Probation is full: close the oldest slot of the peer that holds the most. */
  private evict(): void {
    let most: Set<Slot> | undefined;
    for (const mine of this.probation.values()) if (!most || mine.size > most.size) most = mine;
    const victim = most?.values().next().value;
    if (victim) this.close(victim);
  }

  /** Closes a connection on probation that stayed silent, or was evicted for a newer one. */
  private close(slot: Slot): void {
    if (!slot.refused) {
      this.stats.refusedConnections++;
      this.onRefused('connections-probation', slot.peer);
    }
    // Counted out now (not at 'close'), so that the slot is free for the connection that needs it.
    this.release(slot);
    slot.socket.destroy();
  }

  private release(slot: Slot): void {
    if (this.slots.get(slot.socket) !== slot) return;
    this.slots.delete(slot.socket);
    this.clearProbation(slot);
    this.uncount(slot);
    this.add(slot.share, -1);
    this.stats.openConnections--;
  }
}
