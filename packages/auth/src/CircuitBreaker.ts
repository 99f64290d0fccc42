/**
 * A circuit breaker for calls to a struggling upstream: when at least `failureRatio` (half) of at
 * least `minimumCalls` (20) calls that ended in the last `window` (10 s) failed, it opens for
 * `openFor` (5 s) and refuses calls at once with `CircuitOpen`; then it is half-open, and exactly
 * one probe call decides: a success closes it, a failure opens it again. What counts as a failure
 * is the caller's to say (`DdnAuthClient` counts 5xx, 408, timeouts and transport errors; never
 * 400, 401 or 429); interrupted calls count for nothing. Time comes from the `Clock`.
 *
 * `DdnAuthClient` has one built in (see `DdnAuthClient.Options.circuitBreaker`); this module is for
 * Effect programs that guard calls of their own.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import { type Admission, CircuitState, type Settings, type Verdict } from "./internal/circuitBreaker.js"

/**
 * `closed` (calls go ahead), `open` (calls are refused until `openFor` has passed) or `half_open`
 * (the next call is the probe that decides; the others are refused while it runs).
 *
 * @since 0.1.0
 * @category models
 */
export type State = "closed" | "open" | "half_open"

/**
 * How one call went: a `failure` counts against the upstream, a `success` for it, `ignored` not at all.
 *
 * @since 0.1.0
 * @category models
 */
export type { Verdict }

/**
 * The breaker's settings.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The rolling window calls are counted in (ten buckets of a tenth each). Default 10 s. */
  readonly window?: Duration.DurationInput | undefined
  /** The fewest calls in the window that can open the breaker. Default 20. */
  readonly minimumCalls?: number | undefined
  /** The share of failed calls in the window that opens the breaker, 0–1. Default 0.5. */
  readonly failureRatio?: number | undefined
  /** How long the breaker stays open before a probe. Default 5 s. */
  readonly openFor?: Duration.DurationInput | undefined
}

/**
 * The defaults of {@link Options}.
 *
 * @since 0.1.0
 * @category config
 */
export const defaults = {
  window: Duration.seconds(10),
  minimumCalls: 20,
  failureRatio: 0.5,
  openFor: Duration.seconds(5)
} as const

/**
 * A call refused because the breaker is open (or half-open with its probe under way); `retryAfter` is until the next probe.
 *
 * @since 0.1.0
 * @category errors
 */
export class CircuitOpen extends Data.TaggedError("CircuitOpen")<{ readonly retryAfter: Duration.Duration }> {
  override get message(): string {
    return `The circuit is open; the next probe in ${Math.ceil(Duration.toSeconds(this.retryAfter))} s`
  }
}

/**
 * A circuit breaker.
 *
 * @since 0.1.0
 * @category models
 */
export interface CircuitBreaker {
  /** The state now. */
  readonly state: Effect.Effect<State>
  /** Runs `self` if the breaker lets it, recording how it went as `classify` says. */
  readonly withBreaker: <A, E, R>(
    self: Effect.Effect<A, E, R>,
    classify: (exit: Exit.Exit<A, E>) => Verdict
  ) => Effect.Effect<A, E | CircuitOpen, R>
}

/** The resolved settings of `options`. @internal */
export const settings = (options: Options = {}): Settings => ({
  windowMillis: Duration.toMillis(Duration.decode(options.window ?? defaults.window)),
  buckets: 10,
  minimumCalls: options.minimumCalls ?? defaults.minimumCalls,
  failureRatio: options.failureRatio ?? defaults.failureRatio,
  openMillis: Duration.toMillis(Duration.decode(options.openFor ?? defaults.openFor))
})

/**
 * A classifier for `withBreaker`: every typed failure is a `failure`, success a `success`, the rest (interruptions, defects) `ignored`.
 *
 * @since 0.1.0
 * @category utils
 */
export const failuresAreFailures = <A, E>(exit: Exit.Exit<A, E>): Verdict =>
  Exit.isSuccess(exit) ? "success" : Option.isSome(Cause.failureOption(exit.cause)) ? "failure" : "ignored"

/**
 * Makes a closed breaker.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<CircuitBreaker> =>
  Effect.sync(() => {
    const circuit = new CircuitState(settings(options))
    const withBreaker = <A, E, R>(
      self: Effect.Effect<A, E, R>,
      classify: (exit: Exit.Exit<A, E>) => Verdict
    ): Effect.Effect<A, E | CircuitOpen, R> =>
      Effect.flatMap(Clock.currentTimeMillis, (now): Effect.Effect<A, E | CircuitOpen, R> => {
        const admission: Admission = circuit.admit(now)
        if (typeof admission === "number") {
          return Effect.fail(new CircuitOpen({ retryAfter: Duration.millis(admission) }))
        }
        return Effect.onExit(self, (exit) =>
          Effect.map(Clock.currentTimeMillis, (end) => circuit.record(end, classify(exit), admission))
        )
      })
    return { state: Effect.map(Clock.currentTimeMillis, (now) => circuit.state(now)), withBreaker }
  })
