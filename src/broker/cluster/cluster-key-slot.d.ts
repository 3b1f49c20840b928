/** Types for the `cluster-key-slot` package (the CRC16 key slot ioredis itself uses). */
declare module 'cluster-key-slot' {
  /** The Redis Cluster slot (0-16383) of a key, honouring its first non-empty `{hash tag}`. */
  function calculateSlot(key: string | Buffer): number;
  namespace calculateSlot {
    /** The common slot of `keys`, or -1 when they do not all share one. */
    function generateMulti(keys: Array<string | Buffer>): number;
  }
  export = calculateSlot;
}
