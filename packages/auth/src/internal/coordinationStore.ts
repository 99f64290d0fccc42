/** @internal */
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type * as SubscriptionRef from "effect/SubscriptionRef"
import type { RedisUnavailable } from "../redis/RedisConnection.js"

/**
 * The shared state the Redis coordinator works on, as an interface: Redis in production
 * (`redisCoordinationStore.ts`), an in-memory double on a `TestClock` in unit tests. Values are opaque
 * strings (sealed by `coordinationCipher.ts`); keys are HMACs. Per key there are two entries:
 *
 * - the **lease**: which holder (a random id per call) may call DDN for this token, with a TTL the
 *   holder renews while its call runs, so a dead holder's lease lapses by itself;
 * - the **outcome**: the sealed result of the last call, with a TTL; writing it also releases the
 *   holder's lease and notifies every instance.
 */
export interface CoordinationStore {
  /**
   * Atomically: when an outcome is kept under `key` and it is not `seen` (one the caller has already
   * judged and turned down), returns it with the lease holder, if any; otherwise takes the lease for
   * `holder` if it is free, or says who holds it, and then (for up to `waitMillis`, the longest a
   * caller waits) that someone waits for its outcome, so that settling it notifies.
   */
  readonly claim: (
    key: string,
    holder: string,
    leaseMillis: number,
    seen: string | undefined,
    waitMillis: number
  ) => Effect.Effect<Claim, RedisUnavailable>
  /** The outcome and the lease holder under `key`, as they are now. */
  readonly peek: (key: string) => Effect.Effect<Snapshot, RedisUnavailable>
  /** Extends the leases that are still held by the given holders. */
  readonly renew: (
    leases: ReadonlyArray<readonly [key: string, holder: string]>,
    leaseMillis: number
  ) => Effect.Effect<void, RedisUnavailable>
  /** Atomically: keeps `outcome` for `ttlMillis`, releases `holder`'s lease, and notifies waiters, if any. */
  readonly settle: (
    key: string,
    holder: string,
    outcome: string,
    ttlMillis: number
  ) => Effect.Effect<void, RedisUnavailable>
  /**
   * After an outage: writes outcomes back (key, sealed outcome, TTL) and takes the leases of calls
   * still running here (key, holder), wherever Redis holds nothing for them now.
   */
  readonly restore: (
    outcomes: ReadonlyArray<readonly [key: string, outcome: string, ttlMillis: number]>,
    leases: ReadonlyArray<readonly [key: string, holder: string]>,
    leaseMillis: number
  ) => Effect.Effect<void, RedisUnavailable>
  /** Releases `holder`'s lease, if it still holds it (a holder that gives up without an outcome). */
  readonly release: (key: string, holder: string) => Effect.Effect<void, RedisUnavailable>
  /**
   * Listens, for the scope, for outcomes settled under `key` by any instance: the effect returned
   * completes once one was settled since `watch` ran (notifications are best effort: poll too).
   */
  readonly watch: (key: string) => Effect.Effect<Effect.Effect<void>, never, Scope.Scope>
  /** Whether the store answers right now. */
  readonly healthy: SubscriptionRef.SubscriptionRef<boolean>
}

/** What `claim` found. */
export type Claim =
  | { readonly _tag: "Acquired" }
  | { readonly _tag: "Held"; readonly holder: string | undefined }
  | { readonly _tag: "Kept"; readonly outcome: string; readonly holder: string | undefined }

/** What `peek` found. */
export interface Snapshot {
  readonly outcome: string | undefined
  readonly holder: string | undefined
}
