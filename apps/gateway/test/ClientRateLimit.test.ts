import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/TestClock"
import { parse } from "graphql"
import * as BoundedRateLimiterStore from "../src/BoundedRateLimiterStore.js"
import * as ClientRateLimit from "../src/ClientRateLimit.js"
import { refreshesIn } from "../src/internal/refreshCount.js"

const withLimit = <A, E>(perMinute: number, body: (limit: ClientRateLimit.Service) => Effect.Effect<A, E>) =>
  Effect.flatMap(ClientRateLimit.ClientRateLimit, body).pipe(
    Effect.provide(ClientRateLimit.layer({ perMinute }).pipe(Layer.provide(BoundedRateLimiterStore.layer())))
  )

const retryAfterOf = (exit: Exit.Exit<void, ClientRateLimit.ClientRateLimited>) =>
  Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error.retryAfterSeconds : undefined

describe("ClientRateLimit", () => {
  it.effect("lets a client make its limit of refreshes at once, then one per limit/60 s", () =>
    withLimit(60, (limit) =>
      Effect.gen(function* () {
        for (let i = 0; i < 60; i++) yield* limit.consume("a", 1)
        const refused = yield* Effect.exit(limit.consume("a", 1))
        expect(retryAfterOf(refused)).toBe(1)
        // Another client is not affected.
        yield* limit.consume("b", 1)
        yield* TestClock.adjust(Duration.seconds(1))
        yield* limit.consume("a", 1)
        expect(Exit.isFailure(yield* Effect.exit(limit.consume("a", 1)))).toBe(true)
      })
    )
  )

  it.effect(
    "is a token bucket: at most limit + t·limit/60 refreshes in any t seconds, no window-edge double burst",
    () =>
      withLimit(60, (limit) =>
        Effect.gen(function* () {
          const granted: Array<number> = []
          // Try 4 refreshes every second for 3 minutes and record when each was granted.
          for (let step = 0; step < 180; step++) {
            for (let i = 0; i < 4; i++) {
              if (Exit.isSuccess(yield* Effect.exit(limit.consume("a", 1)))) granted.push(step * 1000)
            }
            yield* TestClock.adjust(Duration.seconds(1))
          }
          let excess = 0
          for (let first = 0; first < granted.length; first++) {
            for (let last = first; last < granted.length; last++) {
              const seconds = (granted[last]! - granted[first]!) / 1000
              excess = Math.max(excess, last - first + 1 - (60 + Math.floor(seconds) + 1))
            }
          }
          expect(excess).toBeLessThanOrEqual(0)
          // And the long-run rate is the refill rate: 60 up front, then 1 per second.
          expect(granted.length).toBe(60 + 179)
        })
      )
  )

  it.effect("takes a request's refreshes all or none, and its Retry-After is enough to get them", () =>
    withLimit(60, (limit) =>
      Effect.gen(function* () {
        for (let i = 0; i < 58; i++) yield* limit.consume("a", 1)
        const refused = yield* Effect.exit(limit.consume("a", 4))
        const wait = retryAfterOf(refused)
        expect(wait).toBe(2)
        // Nothing was taken by the refused request: the 2 left are still there.
        yield* limit.consume("a", 2)
        yield* TestClock.adjust(Duration.seconds(4))
        yield* limit.consume("a", 4)
      })
    )
  )

  it.effect("says at least 1 s, in whole seconds, even for a fraction of a token", () =>
    withLimit(600, (limit) =>
      Effect.gen(function* () {
        yield* limit.consume("a", 600)
        expect(retryAfterOf(yield* Effect.exit(limit.consume("a", 1)))).toBe(1)
      })
    )
  )

  it.effect("limits nothing at 0, and never counts requests without refreshes", () =>
    Effect.gen(function* () {
      yield* withLimit(0, (limit) => Effect.forEach(Array.from({ length: 1_000 }), () => limit.consume("a", 4)))
      yield* withLimit(4, (limit) =>
        Effect.gen(function* () {
          for (let i = 0; i < 100; i++) yield* limit.consume("a", 0)
          yield* limit.consume("a", 4)
        })
      )
    })
  )
})

describe("refreshesIn", () => {
  const count = (source: string, operationName?: string) => refreshesIn(parse(source), operationName)

  it("counts the distinct response keys of refreshToken at the root, through fragments", () => {
    expect(count("{ health }")).toBe(0)
    expect(count('mutation { refreshToken(refreshToken: "a") { __typename } }')).toBe(1)
    expect(
      count(`mutation {
        refreshToken(refreshToken: "a") { __typename }
        b: refreshToken(refreshToken: "b") { __typename }
        ... on Mutation { c: refreshToken(refreshToken: "c") { __typename } }
        ...F ...F
      }
      fragment F on Mutation { d: refreshToken(refreshToken: "d") { __typename } b: refreshToken(refreshToken: "b") { __typename } }`)
    ).toBe(4)
    expect(count('mutation { refreshToken(refreshToken: "a") @skip(if: true) { __typename } }')).toBe(1)
  })

  it("counts the operation that runs, by name", () => {
    const document = `query Q { health } mutation M { a: refreshToken(refreshToken: "a") { __typename } b: refreshToken(refreshToken: "b") { __typename } }`
    expect(count(document, "Q")).toBe(0)
    expect(count(document, "M")).toBe(2)
    expect(count(document, "nope")).toBe(0)
    expect(count(document)).toBe(0) // ambiguous: execution refuses it
  })
})
