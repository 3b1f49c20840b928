/** Interning of publication ids ("<seq>.<attempt>") per channel, so clients store small integers. */
export class IdTable {
  private readonly index = new Map<string, number>();
  /** Ids in order of first sight. */
  readonly names: string[] = [];

  /** The integer for `id`, allocated on first sight. */
  intern(id: string): number {
    let n = this.index.get(id);
    if (n === undefined) {
      n = this.names.length;
      this.index.set(id, n);
      this.names.push(id);
    }
    return n;
  }

  /** Number of distinct ids seen so far. */
  get size(): number {
    return this.names.length;
  }
}
