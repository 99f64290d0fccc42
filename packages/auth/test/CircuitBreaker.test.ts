import { describe, expect, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/TestClock"
import * as CircuitBreaker from "../src/CircuitBreaker.js"
import { failure, failureTag } from "./utils/exits.js"

/** A breaker and a counter of the calls it let through. */
const harness = (options?: CircuitBreaker.Options) =>
  Effect.map(CircuitBreaker.make(options), (breaker) => {
    let calls = 0
    const call = (outcome: "ok" | "fail" | "ignored") =>
      breaker
        .withBreaker(
          Effect.suspend(() => {
            calls += 1
            return outcome === "ok" ? Effect.succeed("ok") : Effect.fail(outcome)
          }),
          () => (outcome === "ok" ? "success" : outcome === "fail" ? "failure" : "ignored")
        )
        .pipe(Effect.exit)
    const times = (n: number, outcome: "ok" | "fail" | "ignored") =>
      Effect.forEach(Array.from({ length: n }), () => call(outcome), { discard: true })
    return { breaker, call, times, calls: () => calls }
  })

/** {@link harness}, the breaker opened by 20 failed calls. */
const opened = Effect.tap(harness(), ({ times }) => times(20, "fail"))

/** {@link opened}, 5 s on: half-open, the next call is the probe. */
const halfOpen = Effect.tap(opened, () => TestClock.adjust("5 seconds"))

/** Forks `effect` as the half-open breaker's probe, and waits until the breaker has let it start. */
const forkProbe = <A, E>(breaker: CircuitBreaker.CircuitBreaker, effect: Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    const started = yield* Deferred.make<void>()
    const probe = yield* breaker
      .withBreaker(Effect.zipRight(Deferred.succeed(started, undefined), effect), CircuitBreaker.failuresAreFailures)
      .pipe(Effect.fork)
    yield* Deferred.await(started)
    return probe
  })

describe("CircuitBreaker", () => {
  it.effect("20 failed calls in the window open it; 19 do not", () =>
    Effect.gen(function* () {
      const { breaker, times, call, calls } = yield* harness()
      yield* times(19, "fail")
      expect(yield* breaker.state).toBe("closed")
      yield* times(1, "fail")
      expect(yield* breaker.state).toBe("open")
      const refused = yield* call("ok")
      expect(failureTag(refused)).toBe("CircuitOpen")
      expect(calls()).toBe(20)
    })
  )

  it.effect("half of at least 20 opens it; just under half does not", () =>
    Effect.gen(function* () {
      const under = yield* harness()
      yield* under.times(11, "ok")
      yield* under.times(9, "fail")
      expect(yield* under.breaker.state).toBe("closed")
      const half = yield* harness()
      yield* half.times(10, "ok")
      yield* half.times(10, "fail")
      expect(yield* half.breaker.state).toBe("open")
    })
  )

  it.effect("ignored calls count for nothing", () =>
    Effect.gen(function* () {
      const { breaker, times } = yield* harness()
      yield* times(19, "fail")
      yield* times(30, "ignored")
      expect(yield* breaker.state).toBe("closed")
    })
  )

  it.effect("the window rolls: failures older than 10 s no longer count", () =>
    Effect.gen(function* () {
      const { breaker, times } = yield* harness()
      yield* times(19, "fail")
      yield* TestClock.adjust("10 seconds")
      yield* times(19, "fail")
      expect(yield* breaker.state).toBe("closed")
      yield* TestClock.adjust("5 seconds")
      yield* times(1, "fail")
      expect(yield* breaker.state).toBe("open")
    })
  )

  it.effect("failures spread over the window add up", () =>
    Effect.gen(function* () {
      const { breaker, times } = yield* harness()
      for (let second = 0; second < 10; second++) {
        yield* times(2, "fail")
        yield* TestClock.adjust("900 millis")
      }
      expect(yield* breaker.state).toBe("open")
    })
  )

  it.effect("open for 5 s, refusing without calling and saying when the probe comes; then half-open", () =>
    Effect.gen(function* () {
      const { breaker, call, calls } = yield* opened
      yield* TestClock.adjust("4 seconds")
      expect(failure(yield* call("ok"))).toMatchObject({
        _tag: "CircuitOpen",
        retryAfter: Duration.seconds(1)
      })
      expect(calls()).toBe(20)
      yield* TestClock.adjust("1 second")
      expect(yield* breaker.state).toBe("half_open")
    })
  )

  it.effect("half-open: exactly one probe runs; the others are refused while it does; its success closes", () =>
    Effect.gen(function* () {
      const { breaker, call, calls } = yield* halfOpen
      const gate = yield* Deferred.make<void>()
      const probe = yield* forkProbe(breaker, Deferred.await(gate))
      expect(failureTag(yield* call("ok"))).toBe("CircuitOpen")
      expect(failureTag(yield* call("ok"))).toBe("CircuitOpen")
      expect(calls()).toBe(20)
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(probe)
      expect(yield* breaker.state).toBe("closed")
      expect(Exit.isSuccess(yield* call("ok"))).toBe(true)
    })
  )

  it.effect("half-open: a failed probe opens it again for another 5 s", () =>
    Effect.gen(function* () {
      const { breaker, call, calls } = yield* halfOpen
      yield* call("fail")
      expect(calls()).toBe(21)
      expect(yield* breaker.state).toBe("open")
      yield* TestClock.adjust("4999 millis")
      expect(failureTag(yield* call("ok"))).toBe("CircuitOpen")
      yield* TestClock.adjust("1 millis")
      expect(Exit.isSuccess(yield* call("ok"))).toBe(true)
      expect(yield* breaker.state).toBe("closed")
    })
  )

  it.effect("an interrupted probe lets the next call probe", () =>
    Effect.gen(function* () {
      const { breaker, call } = yield* halfOpen
      const probe = yield* forkProbe(breaker, Effect.never)
      yield* Fiber.interrupt(probe)
      expect(Exit.isSuccess(yield* call("ok"))).toBe(true)
      expect(yield* breaker.state).toBe("closed")
    })
  )

  it.effect("after closing, the window starts empty", () =>
    Effect.gen(function* () {
      const { breaker, times } = yield* halfOpen
      yield* times(1, "ok")
      yield* times(19, "fail")
      expect(yield* breaker.state).toBe("closed")
    })
  )

  it.effect("its settings: a smaller window, fewer calls, a shorter open period", () =>
    Effect.gen(function* () {
      const { breaker, times } = yield* harness({ window: "1 second", minimumCalls: 4, openFor: "200 millis" })
      yield* times(4, "fail")
      expect(yield* breaker.state).toBe("open")
      yield* TestClock.adjust("200 millis")
      expect(yield* breaker.state).toBe("half_open")
    })
  )
})
