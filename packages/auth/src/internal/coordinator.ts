/** @internal */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import type { Coordinated, Coordination, Service } from "../RefreshCoordinator.js"
import { InvalidInput, type RefreshError } from "../RefreshError.js"
import * as RefreshMetrics from "../RefreshMetrics.js"
import type { TokenGrant } from "../TokenGrant.js"
import { type KeptGrant, keep, restore } from "./keptGrant.js"
import { LruCache } from "./lruCache.js"
import { invalidReason } from "./refreshTokenInput.js"
import * as SingleFlight from "./singleFlight.js"

/** What a coordinator is made of, beyond what every coordinator does. */
export interface Parts {
  /** How long a grant is answered again from this process's memory; 0 disables. */
  readonly reuseWindowMillis: number
  /** Most grants kept in memory. */
  readonly maxEntries: number
  /** The entry key of a token: an HMAC, never the token. */
  readonly keyOf: (token: string) => string
  /**
   * The refresh of a token that neither this process's reuse window nor its calls in flight can
   * answer. It runs detached from the callers; `keepLocally` puts a grant in the local window.
   */
  readonly refresh: (
    key: string,
    token: Redacted.Redacted<string>,
    keepLocally: (grant: TokenGrant) => Effect.Effect<void>
  ) => Effect.Effect<Coordinated, RefreshError>
  readonly coordination: Effect.Effect<Coordination>
  /** Wraps what each caller waits on, e.g. to bound it by a deadline. */
  readonly bound?:
    | ((wait: Effect.Effect<Coordinated, RefreshError>) => Effect.Effect<Coordinated, RefreshError>)
    | undefined
}

/** Says on the coordinator's span how the grant was obtained: `upstream`, `coalesced` or `reused`. */
const annotateSource = (coordinated: Coordinated) =>
  Effect.annotateCurrentSpan("ddn.refresh.source", coordinated.source)

/**
 * A coordinator: input checked before anything else, then this process's reuse window, then its
 * single-flight, then `parts.refresh`. Runs in flight end with the scope.
 */
export const make = (parts: Parts): Effect.Effect<Service, never, Scope.Scope> =>
  Effect.gen(function* () {
    const flights = SingleFlight.make<Coordinated, RefreshError>(yield* Effect.scope)
    const recent = new LruCache<KeptGrant>(parts.maxEntries)
    const window = parts.reuseWindowMillis
    const bound = parts.bound ?? ((wait) => wait)

    const keepLocally = (key: string) => (grant: TokenGrant) =>
      window === 0
        ? Effect.void
        : Effect.map(Clock.currentTimeMillis, (now) => recent.set(key, keep(grant), now + window, now))

    /** Joins the refresh of `key` in flight, or starts one detached from every caller. */
    const shareOrStart = (key: string, token: Redacted.Redacted<string>): Effect.Effect<Coordinated, RefreshError> =>
      bound(
        Effect.flatMap(flights.run(key, parts.refresh(key, token, keepLocally(key))), ({ joined, value }) =>
          joined
            ? Effect.as(Metric.increment(RefreshMetrics.coalesced), {
                grant: value.grant,
                source: "coalesced" as const
              })
            : Effect.succeed(value)
        )
      )

    const coordinate = (refreshToken: Redacted.Redacted<string>): Effect.Effect<Coordinated, RefreshError> =>
      Effect.withSpan(
        Effect.suspend(() => {
          const raw = Redacted.value(refreshToken)
          const reason = invalidReason(raw)
          if (reason !== undefined) return Effect.fail(new InvalidInput({ reason }))
          const key = parts.keyOf(raw)
          if (window === 0) return shareOrStart(key, refreshToken)
          return Effect.flatMap(Clock.currentTimeMillis, (now) => {
            const kept = recent.get(key, now)
            return kept === undefined
              ? shareOrStart(key, refreshToken)
              : Effect.as(Metric.increment(RefreshMetrics.reused), { grant: restore(kept), source: "reused" as const })
          })
        }).pipe(Effect.tap(annotateSource)),
        "RefreshCoordinator.refresh",
        { captureStackTrace: false }
      )

    return {
      coordinate,
      refresh: (refreshToken) => Effect.map(coordinate(refreshToken), (coordinated) => coordinated.grant),
      coordination: parts.coordination
    }
  })
