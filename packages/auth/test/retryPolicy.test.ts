import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as TestClock from "effect/TestClock"
import { retryPolicy, TransientFailure } from "../src/internal/retryPolicy.js"
import { awaitBlocked } from "./utils/fibers.js"

const timeout = new TransientFailure({ kind: "Timeout", retryAfter: Option.none(), reachedUpstream: true })

describe("retryPolicy", () => {
  it.effect("jittered waits are whole milliseconds, so no timer lands a rounding error past the deadline", () =>
    Effect.gen(function* () {
      const driver = yield* Schedule.driver(
        retryPolicy({ baseDelay: Duration.millis(100), maxAttempts: 10, deadlineAt: 60_000 })
      )
      for (let retry = 0; retry < 6; retry++) {
        const wait = yield* Effect.fork(driver.next(timeout))
        yield* awaitBlocked(wait)
        const [due] = yield* TestClock.sleeps()
        expect(Number.isInteger(due)).toBe(true)
        yield* TestClock.adjust(Duration.millis(due! - (yield* TestClock.currentTimeMillis)))
        yield* Fiber.join(wait)
      }
    })
  )
})
