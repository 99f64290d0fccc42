import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberId from "effect/FiberId"

/**
 * A `Clock` for long simulations: `sleep` jumps simulated time forward at once instead of waiting
 * for a test to advance it, and parks for good a sleep that would end past `horizon`. `TestClock`
 * polls real timers on every adjustment (a few milliseconds each), which is too slow for a month of
 * hourly steps; this clock runs such a month in milliseconds. Install it with `Effect.withClock`.
 */
export const makeSimulatedClock = (options: { readonly horizon: Duration.DurationInput }) => {
  const horizon = Duration.toMillis(options.horizon)
  let now = 0
  const parked = Deferred.unsafeMake<void>(FiberId.none)
  const clock: Clock.Clock = {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => now,
    currentTimeMillis: Effect.sync(() => now),
    unsafeCurrentTimeNanos: () => BigInt(now) * 1_000_000n,
    currentTimeNanos: Effect.sync(() => BigInt(now) * 1_000_000n),
    sleep: (duration) =>
      Effect.suspend(() => {
        const until = now + Duration.toMillis(duration)
        if (until > horizon) return Effect.zipRight(Deferred.succeed(parked, undefined), Effect.never)
        now = until
        return Effect.yieldNow()
      })
  }
  return {
    clock,
    /** Simulated time, in ms since the start. */
    now: () => now,
    /** Waits until a sleep has been parked past the horizon: its fiber will never run again. */
    parked: Deferred.await(parked),
    advance: (duration: Duration.DurationInput) => {
      now += Duration.toMillis(duration)
    }
  }
}
