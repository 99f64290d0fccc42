/** @internal */
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as CircuitBreaker from "../CircuitBreaker.js"
import { RateLimited, type RefreshError, UpstreamUnavailable } from "../RefreshError.js"
import * as RefreshMetrics from "../RefreshMetrics.js"
import { CircuitState, type Verdict } from "./circuitBreaker.js"
import { InFlightCount } from "./inFlight.js"
import * as MetricLabels from "./metricLabels.js"
import { isTransient, TransientFailure } from "./retryPolicy.js"
import { PauseState } from "./upstreamPause.js"

/** The guard's settings. @internal */
export interface GuardOptions {
  /** The breaker's settings, or `false` for none. */
  readonly circuitBreaker: CircuitBreaker.Options | false
  readonly maxInFlight: number
}

/** What the guard's pieces say now. @internal */
export interface GuardStatus {
  readonly circuit: CircuitBreaker.State
  /** Epoch ms the pause ends at, when paused. */
  readonly pausedUntil: number | undefined
  readonly inFlight: number
}

/** An attempt given up before it started, the deadline having passed. @internal */
export const deadlinePassed = new TransientFailure({
  kind: "Deadline",
  retryAfter: Option.none(),
  reachedUpstream: false
})

const refusedBy = MetricLabels.byValue(RefreshMetrics.upstreamRefused, RefreshMetrics.descriptors.upstreamRefused.label)

/**
 * How an attempt went, for the breaker: transport errors, timeouts, 408 and 5xx are failures;
 * every other answer (400, 401, 429, other 4xx, a grant, an off-spec body) a success; an attempt
 * cut short by the refresh's deadline or by interruption counts for nothing.
 */
const verdictOf = (exit: Exit.Exit<unknown, RefreshError | TransientFailure>): Verdict => {
  if (exit._tag === "Success") return "success"
  const error = Cause.failureOption(exit.cause)
  if (Option.isNone(error)) return "ignored"
  const failure = error.value
  if (!isTransient(failure)) return "success"
  if (failure.kind === "Deadline") return "ignored"
  return failure.status === 429 ? "success" : "failure"
}

/**
 * Every upstream attempt of a `DdnAuthClient` goes through here, in this order: DDN's pause (wait
 * it out within the deadline, else `RateLimited` with the time left), the circuit breaker
 * (`UpstreamUnavailable`/`CircuitOpen` while open), the in-flight bound
 * (`UpstreamUnavailable`/`InFlightLimit`); a 429 with `Retry-After` starts a pause. The three
 * pieces' states are the synchronous cores of `CircuitBreaker`, `UpstreamPause` and
 * `InFlightLimit`, read against one `Clock` reading before the attempt and one after.
 *
 * @internal
 */
export const make = (options: GuardOptions) => {
  const breaker =
    options.circuitBreaker === false ? undefined : new CircuitState(CircuitBreaker.settings(options.circuitBreaker))
  const pause = new PauseState()
  const inFlight = new InFlightCount(options.maxInFlight)

  const refuse = (reason: keyof typeof refusedBy, error: RefreshError) =>
    Effect.zipRight(Metric.increment(refusedBy[reason]), Effect.fail(error))

  /**
   * Runs the attempt `start(now)` builds once DDN may be called; `attempts` is how many the
   * refresh has made so far (for the refusal's error), `deadlineAt` the refresh's deadline (epoch ms).
   */
  const run = <A>(
    deadlineAt: number,
    attempts: () => number,
    start: (now: number) => Effect.Effect<A, RefreshError | TransientFailure>
  ): Effect.Effect<A, RefreshError | TransientFailure> =>
    Effect.clockWith((clock) => {
      const now = clock.unsafeCurrentTimeMillis()
      if (now >= deadlineAt) return Effect.fail(deadlinePassed)
      const paused = pause.remaining(now)
      if (paused > 0) {
        return pause.until >= deadlineAt
          ? refuse("paused", new RateLimited({ retryAfter: Duration.millis(paused) }))
          : Effect.zipRight(Effect.sleep(Duration.millis(paused)), run(deadlineAt, attempts, start))
      }
      const admission = breaker === undefined ? "pass" : breaker.admit(now)
      if (typeof admission === "number") {
        return refuse("open", new UpstreamUnavailable({ reason: "CircuitOpen", attempts: attempts() }))
      }
      if (!inFlight.tryAcquire()) {
        if (admission === "probe") breaker!.record(now, "ignored", admission)
        return refuse("in_flight", new UpstreamUnavailable({ reason: "InFlightLimit", attempts: attempts() }))
      }
      return Effect.onExit(start(now), (exit) => {
        inFlight.release()
        const end = clock.unsafeCurrentTimeMillis()
        breaker?.record(end, verdictOf(exit), admission)
        if (exit._tag === "Failure") {
          const error = Cause.failureOption(exit.cause)
          if (
            Option.isSome(error) &&
            isTransient(error.value) &&
            error.value.status === 429 &&
            Option.isSome(error.value.retryAfter)
          ) {
            pause.pause(end + Duration.toMillis(error.value.retryAfter.value))
          }
        }
        return Effect.void
      })
    })

  const status = (now: number): GuardStatus => ({
    circuit: breaker === undefined ? "closed" : breaker.state(now),
    pausedUntil: pause.remaining(now) > 0 ? pause.until : undefined,
    inFlight: inFlight.current
  })

  return { run, status }
}
