import { describe, expect, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/TestClock"
import { attemptTimeout } from "../src/internal/attemptTimeout.js"

const timedOut = () => "timed out" as const

/** An attempt that finishes when `gate` opens and records whether it was interrupted. */
const gated = <A>(gate: Deferred.Deferred<A>) => {
  const state = { interrupted: false }
  const effect = Deferred.await(gate).pipe(
    Effect.onInterrupt(() =>
      Effect.sync(() => {
        state.interrupted = true
      })
    )
  )
  return { state, effect }
}

describe("attemptTimeout", () => {
  it.effect("an attempt that finishes in time keeps its value, and the timer firing later changes nothing", () =>
    Effect.gen(function* () {
      const gate = yield* Deferred.make<number>()
      const attempt = gated(gate)
      const fiber = yield* Effect.fork(attemptTimeout(attempt.effect, 1_000, timedOut))
      yield* TestClock.adjust("999 millis")
      yield* Deferred.succeed(gate, 42)
      expect(yield* Fiber.join(fiber)).toBe(42)
      yield* TestClock.adjust("10 seconds")
      expect(attempt.state.interrupted).toBe(false)
    })
  )

  it.effect("an attempt still running when the time is up is interrupted, and the caller gets onTimeout()", () =>
    Effect.gen(function* () {
      const attempt = gated(yield* Deferred.make<number>())
      const outcome = yield* Deferred.make<Exit.Exit<number, "timed out">>()
      // The caller goes on after the timeout (as a retry would): the attempt must not wait for it to end.
      const caller = yield* Effect.fork(
        Effect.exit(attemptTimeout(attempt.effect, 1_000, timedOut)).pipe(
          Effect.flatMap((exit) => Deferred.succeed(outcome, exit)),
          Effect.zipRight(Effect.never)
        )
      )
      yield* TestClock.adjust("999 millis")
      expect(yield* Deferred.isDone(outcome)).toBe(false)
      yield* TestClock.adjust("1 millis")
      expect(yield* Deferred.await(outcome)).toEqual(Exit.fail("timed out"))
      yield* Effect.yieldNow()
      expect(attempt.state.interrupted).toBe(true)
      yield* Fiber.interrupt(caller)
    })
  )

  it.effect("the attempt's own failure passes through untouched", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(attemptTimeout(Effect.fail("refused" as const), 1_000, timedOut))
      expect(exit).toEqual(Exit.fail("refused"))
    })
  )

  it.effect("interrupting the caller interrupts the attempt at once, without waiting for the timer", () =>
    Effect.gen(function* () {
      const attempt = gated(yield* Deferred.make<number>())
      const fiber = yield* Effect.fork(attemptTimeout(attempt.effect, 60_000, timedOut))
      yield* TestClock.adjust("1 millis")
      yield* Fiber.interrupt(fiber)
      yield* Effect.yieldNow()
      expect(attempt.state.interrupted).toBe(true)
    })
  )
})
