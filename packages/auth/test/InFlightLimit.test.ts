import { describe, expect, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as InFlightLimit from "../src/InFlightLimit.js"
import { failure } from "./utils/exits.js"
import { awaitBlocked } from "./utils/fibers.js"

describe("InFlightLimit", () => {
  it.effect("beyond the limit a call is refused at once, without running; a freed permit admits again", () =>
    Effect.gen(function* () {
      const limit = yield* InFlightLimit.make(2)
      const gate = yield* Deferred.make<void>()
      let ran = 0
      const held = limit.withPermit(
        Effect.zipRight(
          Effect.sync(() => ran++),
          Deferred.await(gate)
        )
      )
      const first = yield* Effect.fork(held)
      const second = yield* Effect.fork(held)
      yield* awaitBlocked(first)
      yield* awaitBlocked(second)
      expect(yield* limit.inFlight).toBe(2)
      const third = yield* Effect.exit(limit.withPermit(Effect.sync(() => ran++)))
      expect(failure(third)).toMatchObject({
        _tag: "InFlightLimitReached",
        limit: 2
      })
      expect(ran).toBe(2)
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(first)
      yield* Fiber.join(second)
      expect(yield* limit.inFlight).toBe(0)
      yield* limit.withPermit(Effect.void)
    })
  )

  it.effect("an interrupted or failed call gives its permit back", () =>
    Effect.gen(function* () {
      const limit = yield* InFlightLimit.make(1)
      const hung = yield* Effect.fork(limit.withPermit(Effect.never))
      yield* awaitBlocked(hung)
      expect(yield* limit.inFlight).toBe(1)
      yield* Fiber.interrupt(hung)
      expect(yield* limit.inFlight).toBe(0)
      yield* Effect.exit(limit.withPermit(Effect.fail("boom")))
      expect(yield* limit.inFlight).toBe(0)
    })
  )

  it.effect("defaults to 256", () =>
    Effect.gen(function* () {
      expect((yield* InFlightLimit.make()).limit).toBe(256)
    })
  )
})
