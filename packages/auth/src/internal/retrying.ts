/** @internal */
import * as Effect from "effect/Effect"
import type { LazyArg } from "effect/Function"
import * as Schedule from "effect/Schedule"

/**
 * `Effect.retry(self, { schedule, while })`, with the schedule's driver built only once `self` has
 * failed with an error `while` lets through (and the schedule itself only then, `schedule` being lazy): the hot path, one attempt that succeeds (or fails for
 * good), pays nothing for the schedule. When `schedule` gives up, the last error is the failure.
 *
 * @internal
 */
export const retryLazily =
  <E, R2>(options: {
    readonly schedule: LazyArg<Schedule.Schedule<unknown, E, R2>>
    readonly while: (error: E) => boolean
  }) =>
  <A, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R | R2> =>
    Effect.catchAll(self, (first) =>
      options.while(first)
        ? Effect.flatMap(Schedule.driver(options.schedule()), (driver) => {
            const loop = (error: E): Effect.Effect<A, E, R | R2> =>
              Effect.matchEffect(driver.next(error), {
                onFailure: () => Effect.fail(error),
                onSuccess: () => Effect.catchAll(self, (next) => (options.while(next) ? loop(next) : Effect.fail(next)))
              })
            return loop(first)
          })
        : Effect.fail(first)
    )
