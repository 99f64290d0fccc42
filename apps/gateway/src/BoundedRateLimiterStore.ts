/**
 * An in-memory `RateLimiterStore` for `@effect/experimental`'s `RateLimiter` with a bound on the
 * keys it holds. The package's own `layerStoreMemory` keeps one entry per key for ever, so a flood of
 * client addresses (IPv6 makes them free) would grow it without limit. This store answers exactly as
 * that one does while it holds fewer than `maxEntries` keys (default 100,000); beyond that it drops
 * the least recently used key, whose client then starts again from a full bucket. So memory stays
 * bounded (about 26 MiB at 100,000 IPv6 keys, measured), and the limit stays exact for every client as long as
 * fewer than `maxEntries` clients are active at once; an attacker with more addresses than that can
 * only win back buckets of clients idle longer than all the others.
 *
 * Time is read through Effect's `Clock`.
 *
 * @since 0.1.0
 */
import * as RateLimiter from "@effect/experimental/RateLimiter"
import type * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/**
 * Store settings.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Most keys held at once; the least recently used go first. Default 100,000. */
  readonly maxEntries?: number | undefined
}

/**
 * The defaults of {@link Options}.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaults = { maxEntries: 100_000 } as const

interface Bucket {
  readonly kind: "bucket"
  tokens: number
  lastRefill: number
  readonly limit: number
  readonly refillMillis: number
}

interface Window {
  readonly kind: "window"
  count: number
  expiresAt: number
}

type Entry = Bucket | Window

/**
 * The store's service, and how many keys it holds right now.
 *
 * @since 0.1.0
 * @category models
 */
export interface BoundedRateLimiterStore extends Context.Tag.Service<RateLimiter.RateLimiterStore> {
  readonly size: () => number
}

/**
 * Makes the store (see the module's description).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): BoundedRateLimiterStore => {
  const maxEntries = options.maxEntries ?? defaults.maxEntries
  // A Map iterates in insertion order: re-inserting on every use makes its first key the least recently used.
  const entries = new Map<string, Entry>()

  const take = (key: string): Entry | undefined => {
    const entry = entries.get(key)
    if (entry !== undefined) entries.delete(key)
    return entry
  }

  const put = (key: string, entry: Entry) => {
    entries.set(key, entry)
    if (entries.size > maxEntries) entries.delete(entries.keys().next().value!)
  }

  /** Runs `f` on `key`'s entry, taken out of the map (`f` puts it back), at the clock's time. */
  const withEntry = <A>(
    key: string,
    refillRate: Duration.DurationInput,
    f: (found: Entry | undefined, now: number, refillMillis: number) => A
  ): Effect.Effect<A> =>
    Effect.clockWith((clock) =>
      Effect.sync(() => f(take(key), clock.unsafeCurrentTimeMillis(), Duration.toMillis(refillRate)))
    )

  return {
    size: () => entries.size,
    fixedWindow: (options) =>
      withEntry(options.key, options.refillRate, (found, now, refillMillis) => {
        const counter: Window =
          found?.kind === "window" && found.expiresAt > now ? found : { kind: "window", count: 0, expiresAt: now }
        if (options.limit !== undefined && counter.count + options.tokens > options.limit) {
          put(options.key, counter)
          return [counter.count + options.tokens, counter.expiresAt - now] as const
        }
        counter.count += options.tokens
        counter.expiresAt += refillMillis * options.tokens
        put(options.key, counter)
        return [counter.count, counter.expiresAt - now] as const
      }),
    tokenBucket: (options) =>
      withEntry(options.key, options.refillRate, (found, now, refillMillis) => {
        let bucket: Bucket
        if (found?.kind === "bucket" && found.limit === options.limit && found.refillMillis === refillMillis) {
          bucket = found
          const refill = Math.floor((now - bucket.lastRefill) / refillMillis)
          if (refill > 0) {
            bucket.tokens = Math.min(options.limit, bucket.tokens + refill)
            bucket.lastRefill += refill * refillMillis
          }
        } else {
          bucket = { kind: "bucket", tokens: options.limit, lastRefill: now, limit: options.limit, refillMillis }
        }
        const next = bucket.tokens - options.tokens
        if (options.allowOverflow || next >= 0) bucket.tokens = next
        put(options.key, bucket)
        return next
      })
  }
}

/**
 * The store as a layer, for `RateLimiter.layer` (or `ClientRateLimit.layer`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<RateLimiter.RateLimiterStore> =>
  Layer.sync(RateLimiter.RateLimiterStore, () => make(options))
