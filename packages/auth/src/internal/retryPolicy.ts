/** @internal */
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"

/**
 * A failed attempt: a connection error, a per-attempt timeout, or a 408/429/500/502/503/504 — worth
 * retrying — or the overall deadline (`Deadline`), which ends the retries.
 * `reachedUpstream` is false only when the request certainly never arrived (connection refused, 429),
 * so a later 401 can be told apart from a token that an earlier, lost attempt already rotated.
 */
export class TransientFailure extends Data.TaggedError("TransientFailure")<{
  readonly kind: "Transport" | "Timeout" | "Status" | "Deadline"
  readonly status?: number
  readonly retryAfter: Option.Option<Duration.Duration>
  readonly reachedUpstream: boolean
}> {}

/** Whether an attempt's error may be retried. */
export const isTransient = (error: unknown): error is TransientFailure => error instanceof TransientFailure

/**
 * Exponential backoff with jitter, at most `maxAttempts` attempts in all, retrying transient failures
 * only. A `Retry-After` longer than the backoff replaces it, but only while it still fits before
 * `deadlineAt` (epoch ms on the `Clock`); otherwise the retries stop at once instead of sleeping
 * into the deadline. No wait runs past the deadline: the attempt after it fails as `Deadline`.
 */
export const retryPolicy = (options: {
  readonly baseDelay: Duration.Duration
  readonly maxAttempts: number
  readonly deadlineAt: number
}) =>
  Schedule.exponential(options.baseDelay).pipe(
    Schedule.jittered,
    Schedule.intersect(Schedule.recurs(options.maxAttempts - 1)),
    Schedule.intersect(Schedule.identity<unknown>()),
    Schedule.whileInputEffect((error: unknown) =>
      !isTransient(error) || error.kind === "Deadline"
        ? Effect.succeed(false)
        : Option.match(error.retryAfter, {
            onNone: () => Effect.succeed(true),
            onSome: (wait) =>
              Effect.map(Clock.currentTimeMillis, (now) => now + Duration.toMillis(wait) <= options.deadlineAt)
          })
    ),
    // Whole milliseconds, rounded down: the `Clock` counts in them, and a fractional jittered wait
    // would put every later instant, the last attempt's deadline-bound timer included, a rounding
    // error past the deadline (a timer due at 10000.000000000002 ms never fires on a TestClock set to 10 s).
    Schedule.modifyDelayEffect(([, error], delay) =>
      Effect.map(Clock.currentTimeMillis, (now) =>
        Duration.millis(
          Math.floor(
            Math.min(
              Duration.toMillis(
                isTransient(error) && Option.isSome(error.retryAfter)
                  ? Duration.max(delay, error.retryAfter.value)
                  : delay
              ),
              Math.max(0, options.deadlineAt - now)
            )
          )
        )
      )
    ),
    // Each retry is an event on the refresh's span: why the attempt failed, and the wait before the next.
    Schedule.modifyDelayEffect(([[, retry], error], delay) => Effect.as(retryEvent(retry + 1, error, delay), delay))
  )

/** The `ddn.retry` event on the current span, if any: the failure's kind and status, and the wait. */
const retryEvent = (retry: number, error: unknown, delay: Duration.Duration) =>
  Effect.flatMap(Effect.currentSpan, (span) =>
    Effect.map(Clock.currentTimeNanos, (now) =>
      span.event("ddn.retry", now, {
        "ddn.retry.number": retry,
        "ddn.retry.delay_ms": Duration.toMillis(delay),
        ...(isTransient(error)
          ? {
              "error.type": error.kind,
              ...(error.status === undefined ? {} : { "http.response.status_code": error.status })
            }
          : {})
      })
    )
  ).pipe(Effect.ignore)
