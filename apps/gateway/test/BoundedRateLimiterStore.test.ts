import * as RateLimiter from "@effect/experimental/RateLimiter"
import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"
import * as fc from "fast-check"
import * as BoundedRateLimiterStore from "../src/BoundedRateLimiterStore.js"

const bucket = (store: RateLimiter.RateLimiterStore["Type"], key: string, tokens: number, limit = 4) =>
  store.tokenBucket({ key, tokens, limit, refillRate: Duration.seconds(1), allowOverflow: false })

describe("BoundedRateLimiterStore", () => {
  it.effect("answers exactly what @effect/experimental's memory store answers, below its bound", () =>
    Effect.gen(function* () {
      const steps = fc.sample(
        fc.array(
          fc.record({
            key: fc.constantFrom("a", "b", "c"),
            tokens: fc.integer({ min: 1, max: 4 }),
            advanceMs: fc.constantFrom(0, 0, 100, 700, 1_000, 2_500, 9_000),
            kind: fc.constantFrom("bucket", "window")
          }),
          { minLength: 30, maxLength: 120 }
        ),
        { numRuns: 20, seed: 42 }
      )
      for (const run of steps) {
        const bounded = BoundedRateLimiterStore.make({ maxEntries: 10 })
        const fresh = yield* RateLimiter.RateLimiterStore.pipe(Effect.provide(RateLimiter.layerStoreMemory))
        for (const step of run) {
          if (step.advanceMs > 0) yield* TestClock.adjust(step.advanceMs)
          if (step.kind === "bucket") {
            expect(yield* bucket(bounded, step.key, step.tokens)).toBe(yield* bucket(fresh, step.key, step.tokens))
          } else {
            // The reference keeps windows and buckets apart; one key is one or the other here.
            const options = {
              key: `window-${step.key}`,
              tokens: step.tokens,
              refillRate: Duration.seconds(1),
              limit: 4
            }
            expect(yield* bounded.fixedWindow(options)).toEqual(yield* fresh.fixedWindow(options))
          }
        }
      }
    })
  )

  it.effect("holds at most maxEntries keys under a flood of distinct keys", () =>
    Effect.gen(function* () {
      const store = BoundedRateLimiterStore.make({ maxEntries: 1_000 })
      for (let i = 0; i < 20_000; i++) yield* bucket(store, `client-${i}`, 1)
      expect(store.size()).toBe(1_000)
      // The most recent clients are the ones kept: the last one is still limited.
      for (let i = 0; i < 3; i++) yield* bucket(store, "client-19999", 1)
      expect(yield* bucket(store, "client-19999", 1)).toBe(-1)
    })
  )

  it.effect("keeps a limited client's bucket while it is not full, so it stays limited", () =>
    Effect.gen(function* () {
      const store = BoundedRateLimiterStore.make({ maxEntries: 10 })
      expect(yield* bucket(store, "abuser", 4)).toBe(0)
      expect(yield* bucket(store, "abuser", 1)).toBe(-1)
      yield* TestClock.adjust(Duration.seconds(1))
      expect(yield* bucket(store, "abuser", 1)).toBe(0)
      expect(yield* bucket(store, "abuser", 1)).toBe(-1)
    })
  )
})
