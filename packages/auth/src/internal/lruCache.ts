/**
 * A bounded map from key to value with a deadline per entry: least recently used entries go first
 * when full, and expired entries are dropped as they are met at the cold end. A `Map` keeps
 * insertion order, so touching an entry is delete + set and the coldest entry is the first key.
 *
 * @internal
 */
export class LruCache<V> {
  private readonly entries = new Map<string, { readonly value: V; readonly until: number }>()

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.entries.size
  }

  /** The live value under `key` at `now`, marking it recently used. */
  get(key: string, now: number): V | undefined {
    const entry = this.entries.get(key)
    if (entry === undefined) return undefined
    this.entries.delete(key)
    if (entry.until <= now) return undefined
    this.entries.set(key, entry)
    return entry.value
  }

  /** Keeps `value` under `key` until `until`, dropping expired and then least recently used entries. */
  set(key: string, value: V, until: number, now: number): void {
    this.entries.delete(key)
    for (const [coldKey, cold] of this.entries) {
      if (cold.until > now && this.entries.size < this.capacity) break
      this.entries.delete(coldKey)
    }
    this.entries.set(key, { value, until })
  }
}
