import { SLOT_COUNT } from './key-slot';

/** One master of a Redis Cluster and the slot ranges (inclusive) it serves. */
export interface SlotMaster {
  /** Node id (40 hex characters) when the reply carried it, else `host:port`. */
  readonly id: string;
  readonly host: string;
  readonly port: number;
  /** Inclusive `[first, last]` slot ranges, ascending. */
  readonly ranges: ReadonlyArray<readonly [number, number]>;
}

/**
 * Which master serves each slot. Masters are ordered by the lowest slot they serve, so "master i"
 * means the same node to every process that reads the same cluster state.
 */
export class SlotMap {
  /** Index into `masters` for each slot, -1 where no master serves it. */
  private readonly owner: Int16Array;

  constructor(readonly masters: readonly SlotMaster[]) {
    this.owner = new Int16Array(SLOT_COUNT).fill(-1);
    masters.forEach((master, index) => {
      for (const [first, last] of master.ranges) {
        if (!Number.isInteger(first) || !Number.isInteger(last) || first < 0 || last >= SLOT_COUNT || first > last) {
          throw new Error(`invalid slot range ${first}-${last} for ${master.host}:${master.port}: slots are 0-${SLOT_COUNT - 1}`);
        }
        for (let slot = first; slot <= last; slot++) this.owner[slot] = index;
      }
    });
  }

  /** Index of the master serving `slot`, or -1 when the slot is not served. */
  masterIndexOf(slot: number): number {
    return this.owner[slot] ?? -1;
  }

  /** The master serving `slot`, or undefined when the slot is not served. */
  masterOf(slot: number): SlotMaster | undefined {
    return this.masters[this.masterIndexOf(slot)];
  }

  /** Every slot `masters[index]` serves, ascending. */
  slotsOf(index: number): number[] {
    const slots: number[] = [];
    for (let slot = 0; slot < SLOT_COUNT; slot++) if (this.owner[slot] === index) slots.push(slot);
    return slots;
  }

  /** True when every slot is served by some master. */
  coversAllSlots(): boolean {
    return !this.owner.includes(-1);
  }

  /**
   * The layout `redis-cli --cluster create` gives `masters` masters: contiguous ranges of
   * 16384 / masters slots (hosts are placeholders `m<i>`, port 0).
   */
  static evenlySplit(masters: number): SlotMap {
    if (!Number.isInteger(masters) || masters < 1 || masters > SLOT_COUNT) throw new Error(`masters must be an integer 1-${SLOT_COUNT}, got ${masters}`);
    const per = SLOT_COUNT / masters;
    const list: SlotMaster[] = [];
    let first = 0;
    for (let i = 0; i < masters; i++) {
      const last = i === masters - 1 ? SLOT_COUNT - 1 : Math.round(i * per + per - 1);
      list.push({ id: `m${i}`, host: `m${i}`, port: 0, ranges: [[first, last]] });
      first = last + 1;
    }
    return new SlotMap(list);
  }

  /** Reads a `CLUSTER SLOTS` reply: `[[first, last, [host, port, id, ...], replica...], ...]`. */
  static fromClusterSlots(reply: unknown): SlotMap {
    if (!Array.isArray(reply)) throw new Error('CLUSTER SLOTS reply must be an array');
    const byNode = new Map<string, { id: string; host: string; port: number; ranges: Array<[number, number]> }>();
    for (const entry of reply) {
      if (!Array.isArray(entry) || entry.length < 3 || !Array.isArray(entry[2]))
        throw new Error('CLUSTER SLOTS entry must be [first, last, [host, port, id], ...]');
      const [first, last, master] = entry as [unknown, unknown, unknown[]];
      const host = text(master[0]);
      const port = Number(master[1]);
      const id = master[2] === undefined ? `${host}:${port}` : text(master[2]);
      const node = byNode.get(id) ?? { id, host, port, ranges: [] };
      node.ranges.push([Number(first), Number(last)]);
      byNode.set(id, node);
    }
    return SlotMap.ordered([...byNode.values()]);
  }

  /**
   * Reads a `CLUSTER SHARDS` reply (Redis 7+, RESP2 flat maps): each shard's `slots` list and
   * the node whose `role` is `master`; shards without slots or without a master are left out.
   */
  static fromClusterShards(reply: unknown): SlotMap {
    if (!Array.isArray(reply)) throw new Error('CLUSTER SHARDS reply must be an array');
    const masters: SlotMaster[] = [];
    for (const shard of reply) {
      const fields = flatMap(shard, 'CLUSTER SHARDS shard');
      const slots = fields.get('slots');
      const nodes = fields.get('nodes');
      if (!Array.isArray(slots) || !Array.isArray(nodes)) throw new Error('CLUSTER SHARDS shard must have "slots" and "nodes"');
      if (slots.length === 0) continue;
      const master = nodes.map((node) => flatMap(node, 'CLUSTER SHARDS node')).find((node) => text(node.get('role')) === 'master');
      if (master === undefined) continue;
      const ranges: Array<[number, number]> = [];
      for (let i = 0; i + 1 < slots.length; i += 2) ranges.push([Number(slots[i]), Number(slots[i + 1])]);
      const host = text(master.get('ip') ?? master.get('endpoint'));
      masters.push({ id: text(master.get('id')), host, port: Number(master.get('port') ?? master.get('tls-port')), ranges });
    }
    return SlotMap.ordered(masters);
  }

  /** Sorts masters by their lowest slot and their ranges ascending. */
  private static ordered(masters: SlotMaster[]): SlotMap {
    const sorted = masters.map((m) => ({ ...m, ranges: [...m.ranges].sort((a, b) => a[0] - b[0]) }));
    sorted.sort((a, b) => (a.ranges[0]?.[0] ?? SLOT_COUNT) - (b.ranges[0]?.[0] ?? SLOT_COUNT));
    return new SlotMap(sorted);
  }
}

/** A reply element as text (ioredis returns bulk strings as strings or Buffers). */
function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString();
  if (typeof value === 'number') return String(value);
  throw new Error(`expected a string in the cluster reply, got ${typeof value}`);
}

/** A RESP2 flat `[key, value, key, value, ...]` map as a Map. */
function flatMap(value: unknown, what: string): Map<string, unknown> {
  if (!Array.isArray(value) || value.length % 2 !== 0) throw new Error(`${what} must be a flat [key, value, ...] array`);
  const map = new Map<string, unknown>();
  for (let i = 0; i < value.length; i += 2) map.set(text(value[i]), value[i + 1]);
  return map;
}
