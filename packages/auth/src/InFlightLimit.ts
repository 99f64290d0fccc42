/**
 * A bound on calls in flight at once: beyond `limit` a call is refused at once with
 * `InFlightLimitReached` instead of queueing, so a hanging upstream cannot pile up sockets and memory.
 *
 * `DdnAuthClient` has one built in (`DdnAuthClient.Options.maxInFlight`, default 256); this module
 * is for Effect programs that bound calls of their own.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import { InFlightCount } from "./internal/inFlight.js"

/**
 * The default bound.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultLimit = 256

/**
 * A call refused because `limit` calls are in flight already.
 *
 * @since 0.1.0
 * @category errors
 */
export class InFlightLimitReached extends Data.TaggedError("InFlightLimitReached")<{ readonly limit: number }> {
  override get message(): string {
    return `${this.limit} calls are in flight already`
  }
}

/**
 * A bound on calls in flight.
 *
 * @since 0.1.0
 * @category models
 */
export interface InFlightLimit {
  readonly limit: number
  /** Calls in flight now. */
  readonly inFlight: Effect.Effect<number>
  /** Runs `self` if fewer than `limit` calls are in flight, holding a permit until it ends (interrupted included). */
  readonly withPermit: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | InFlightLimitReached, R>
}

/**
 * Makes a bound of `limit` calls (default 256).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (limit: number = defaultLimit): Effect.Effect<InFlightLimit> =>
  Effect.sync(() => {
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new RangeError("InFlightLimit: limit must be a positive integer")
    const count = new InFlightCount(limit)
    const release = Effect.sync(() => count.release())
    const withPermit = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | InFlightLimitReached, R> =>
      Effect.suspend(
        (): Effect.Effect<A, E | InFlightLimitReached, R> =>
          count.tryAcquire() ? Effect.ensuring(self, release) : Effect.fail(new InFlightLimitReached({ limit }))
      )
    return { limit, inFlight: Effect.sync(() => count.current), withPermit }
  })
