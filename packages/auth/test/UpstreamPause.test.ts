import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import * as UpstreamPause from "../src/UpstreamPause.js"
import { failure } from "./utils/exits.js"

/** The refusal of a wait that does not fit the deadline, `seconds` before the pause ends. */
const pausedFor = (seconds: number) => ({ _tag: "Paused", retryAfter: Duration.seconds(seconds) })

describe("UpstreamPause", () => {
  it.effect("not paused: resumes at once", () =>
    Effect.gen(function* () {
      const pause = yield* UpstreamPause.make
      expect(yield* pause.pausedUntil).toEqual(Option.none())
      yield* pause.awaitResume(1_000)
    })
  )

  it.effect("a pause that ends before the deadline is waited out", () =>
    Effect.gen(function* () {
      const pause = yield* UpstreamPause.make
      yield* pause.pauseFor("3 seconds")
      expect(yield* pause.pausedUntil).toEqual(Option.some(3_000))
      const waiter = yield* Effect.fork(pause.awaitResume(10_000))
      yield* TestClock.adjust("2999 millis")
      expect(waiter.unsafePoll()).toBeNull()
      yield* TestClock.adjust("1 millis")
      expect(Exit.isSuccess(yield* Fiber.await(waiter))).toBe(true)
      expect(yield* pause.pausedUntil).toEqual(Option.none())
    })
  )

  it.effect("a pause that outlasts the deadline fails at once with the time left", () =>
    Effect.gen(function* () {
      const pause = yield* UpstreamPause.make
      yield* pause.pauseFor("30 seconds")
      yield* TestClock.adjust("12 seconds")
      expect(failure(yield* Effect.exit(pause.awaitResume(20_000)))).toMatchObject(pausedFor(18))
    })
  )

  it.effect("a pause extended while waiting is waited out again, or refused once it outlasts the deadline", () =>
    Effect.gen(function* () {
      const pause = yield* UpstreamPause.make
      yield* pause.pauseFor("2 seconds")
      const waiter = yield* Effect.fork(pause.awaitResume(5_000))
      yield* TestClock.adjust("1 second")
      yield* pause.pauseFor("10 seconds")
      yield* TestClock.adjust("1 second")
      expect(failure(yield* Fiber.await(waiter))).toMatchObject(pausedFor(9))
    })
  )

  it.effect("a shorter pause does not shorten a longer one", () =>
    Effect.gen(function* () {
      const pause = yield* UpstreamPause.make
      yield* pause.pauseFor("10 seconds")
      yield* pause.pauseFor("1 second")
      expect(yield* pause.pausedUntil).toEqual(Option.some(10_000))
    })
  )
})
