/**
 * A pause of every call to an upstream that asked for one (HTTP 429 with `Retry-After`): until it
 * ends, a call either waits it out, when the pause ends before the call's deadline, or fails at
 * once with `Paused` carrying the time left, without calling. Time comes from the `Clock`.
 *
 * `DdnAuthClient` has one built in (every attempt waits for it, and every DDN 429 with
 * `Retry-After` starts it); this module is for Effect programs that pause calls of their own.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { PauseState } from "./internal/upstreamPause.js"

/**
 * A call refused because the pause outlasts its deadline; `retryAfter` is the time left in the pause.
 *
 * @since 0.1.0
 * @category errors
 */
export class Paused extends Data.TaggedError("Paused")<{ readonly retryAfter: Duration.Duration }> {
  override get message(): string {
    return `Calls are paused for ${Math.ceil(Duration.toSeconds(this.retryAfter))} s more`
  }
}

/**
 * A pause.
 *
 * @since 0.1.0
 * @category models
 */
export interface UpstreamPause {
  /** When the pause ends (epoch milliseconds on the `Clock`), or none when calls may go ahead. */
  readonly pausedUntil: Effect.Effect<Option.Option<number>>
  /** Pauses every call for `duration` from now, unless a pause already runs longer. */
  readonly pauseFor: (duration: Duration.DurationInput) => Effect.Effect<void>
  /**
   * Waits for the pause to end if it ends before `deadlineAt` (epoch ms on the `Clock`); fails at once
   * with `Paused` if it does not; succeeds at once when there is no pause.
   */
  readonly awaitResume: (deadlineAt: number) => Effect.Effect<void, Paused>
}

/** Waits for `pause` to end before `deadlineAt`, re-reading it after each wait (a later 429 may extend it). @internal */
export const awaitResume = (pause: PauseState, deadlineAt: number): Effect.Effect<void, Paused> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => {
    const remaining = pause.remaining(now)
    if (remaining <= 0) return Effect.void
    if (pause.until >= deadlineAt) return Effect.fail(new Paused({ retryAfter: Duration.millis(remaining) }))
    return Effect.zipRight(Effect.sleep(Duration.millis(remaining)), awaitResume(pause, deadlineAt))
  })

/**
 * Makes a pause that is not paused.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<UpstreamPause> = Effect.sync(() => {
  const pause = new PauseState()
  return {
    pausedUntil: Effect.map(Clock.currentTimeMillis, (now) =>
      pause.remaining(now) > 0 ? Option.some(pause.until) : Option.none()
    ),
    pauseFor: (duration) =>
      Effect.map(Clock.currentTimeMillis, (now) => pause.pause(now + Duration.toMillis(Duration.decode(duration)))),
    awaitResume: (deadlineAt) => awaitResume(pause, deadlineAt)
  }
})
