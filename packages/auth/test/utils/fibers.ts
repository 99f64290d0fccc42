import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as FiberStatus from "effect/FiberStatus"

/**
 * Waits until `fiber` is blocked (on a sleep, a deferred, a lock, a join) or done, however many
 * steps it takes to get there: the fiber is asked its status, which it answers between its steps.
 * For a fiber forked to reach its first wait before the test acts, without counting yields.
 */
export const awaitBlocked = <A, E>(fiber: Fiber.RuntimeFiber<A, E>): Effect.Effect<void> =>
  Effect.asVoid(Effect.repeat(Fiber.status(fiber), { until: (status) => !FiberStatus.isRunning(status) }))
