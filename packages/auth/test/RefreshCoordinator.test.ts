import { describe, expect, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as DateTime from "effect/DateTime"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import { DdnAuthClient, idleUpstream } from "../src/DdnAuthClient.js"
import { LruCache } from "../src/internal/lruCache.js"
import * as Coordinator from "../src/RefreshCoordinator.js"
import { RefreshTokenExpired } from "../src/RefreshError.js"
import { TokenGrant } from "../src/TokenGrant.js"
import { failureTag } from "./utils/exits.js"

/** A DDN double: single-use tokens, counted calls, and an optional gate that holds every call until opened. */
const fakeUpstream = (gate?: Deferred.Deferred<void>) => {
  const spent = new Set<string>()
  const calls: Array<string> = []
  const layer = Layer.succeed(
    DdnAuthClient,
    DdnAuthClient.of({
      upstream: Effect.succeed(idleUpstream),
      refresh: (token) =>
        Effect.gen(function* () {
          const raw = Redacted.value(token)
          calls.push(raw)
          if (gate) yield* Deferred.await(gate)
          if (spent.has(raw)) return yield* new RefreshTokenExpired()
          spent.add(raw)
          return new TokenGrant({
            accessToken: Redacted.make(`access-for-${raw}`),
            refreshToken: Redacted.make(`next-${raw}`),
            expiresIn: 3600,
            tokenType: "Bearer",
            expiresAt: DateTime.unsafeMake(3_600_000)
          })
        })
    })
  )
  return { calls, layer }
}

/** The gated upstream's controls, for the tests that hold it. */
interface Gate {
  /** Lets every held call through. */
  readonly open: Effect.Effect<boolean>
  /** Starts `n` copies of `effect` while every upstream call is held, then opens the gate: their results. */
  readonly together: <A, E>(n: number, effect: Effect.Effect<A, E>) => Effect.Effect<Array<A>, E>
}

/** A coordinator over a fresh {@link fakeUpstream}, held on a gate when `gated`, for `body`. */
const withCoordinator = <A, E>(
  options: Coordinator.Options & { readonly gated?: boolean },
  body: (coordinator: Coordinator.Service, upstream: ReturnType<typeof fakeUpstream> & Gate) => Effect.Effect<A, E>
) =>
  Effect.gen(function* () {
    const { gated, ...coordinatorOptions } = options
    const gate = yield* Deferred.make<void>()
    const upstream = fakeUpstream(gated === true ? gate : undefined)
    const open = Deferred.succeed(gate, undefined)
    const together = <A, E>(n: number, effect: Effect.Effect<A, E>) =>
      Effect.gen(function* () {
        const fibers = yield* Effect.forEach(Array.from({ length: n }), () => Effect.fork(effect))
        yield* open
        return yield* Effect.forEach(fibers, Fiber.join)
      })
    return yield* Effect.flatMap(Coordinator.RefreshCoordinator, (coordinator) =>
      body(coordinator, { ...upstream, open, together })
    ).pipe(Effect.provide(Coordinator.layerMemory(coordinatorOptions).pipe(Layer.provide(upstream.layer))))
  })

const token = (raw: string) => Redacted.make(raw)
const value = (grant: TokenGrant) => [Redacted.value(grant.accessToken), Redacted.value(grant.refreshToken)]

describe("RefreshCoordinator", () => {
  it.effect("20 concurrent refreshes of one token share one upstream call and one outcome", () =>
    withCoordinator({ gated: true }, (coordinator, upstream) =>
      Effect.gen(function* () {
        const grants = yield* upstream.together(20, coordinator.refresh(token("rt-1")))
        expect(upstream.calls).toEqual(["rt-1"])
        expect(new Set(grants.map((grant) => value(grant).join())).size).toBe(1)
      })
    )
  )

  it.effect("coordinate says how each grant was obtained: upstream, coalesced or reused", () =>
    withCoordinator({ gated: true }, (coordinator, upstream) =>
      Effect.gen(function* () {
        const first = yield* upstream.together(3, coordinator.coordinate(token("rt-1")))
        expect(first.map((coordinated) => coordinated.source)).toEqual(["upstream", "coalesced", "coalesced"])
        const again = yield* coordinator.coordinate(token("rt-1"))
        expect(again.source).toBe("reused")
        expect(value(again.grant)).toEqual(value(first[0]!.grant))
      })
    )
  )

  it.effect("concurrent failures are shared too, and never kept", () =>
    withCoordinator({ gated: true }, (coordinator, upstream) =>
      Effect.gen(function* () {
        yield* upstream.open
        yield* coordinator.refresh(token("rt-1"))
        yield* TestClock.adjust("11 seconds")
        const exits = yield* Effect.all(
          Array.from({ length: 5 }, () => Effect.exit(coordinator.refresh(token("rt-1")))),
          { concurrency: "unbounded" }
        )
        expect(exits.every(Exit.isFailure)).toBe(true)
        expect(upstream.calls).toHaveLength(2)
        yield* Effect.exit(coordinator.refresh(token("rt-1")))
        expect(upstream.calls).toHaveLength(3)
      })
    )
  )

  it.effect("a resubmission within the window gets the same pair without a call; after it, the upstream is asked", () =>
    withCoordinator({ reuseWindow: "10 seconds" }, (coordinator, upstream) =>
      Effect.gen(function* () {
        const first = yield* coordinator.refresh(token("rt-1"))
        yield* TestClock.adjust("9999 millis")
        const again = yield* coordinator.refresh(token("rt-1"))
        expect(value(again)).toEqual(value(first))
        expect(upstream.calls).toHaveLength(1)
        yield* TestClock.adjust("1 millis")
        const late = yield* Effect.exit(coordinator.refresh(token("rt-1")))
        expect(failureTag(late)).toBe("RefreshTokenExpired")
        expect(upstream.calls).toHaveLength(2)
      })
    )
  )

  it.effect("a zero window disables reuse", () =>
    withCoordinator({ reuseWindow: 0 }, (coordinator, upstream) =>
      Effect.gen(function* () {
        yield* coordinator.refresh(token("rt-1"))
        const again = yield* Effect.exit(coordinator.refresh(token("rt-1")))
        expect(Exit.isFailure(again)).toBe(true)
        expect(upstream.calls).toHaveLength(2)
      })
    )
  )

  it.effect("a caller's interruption does not cut the rotation short: the resubmission gets its grant", () =>
    withCoordinator({ gated: true }, (coordinator, upstream) =>
      Effect.gen(function* () {
        const first = yield* Effect.fork(coordinator.refresh(token("rt-1")))
        const second = yield* Effect.fork(coordinator.refresh(token("rt-1")))
        yield* TestClock.adjust("1 millis")
        yield* Fiber.interrupt(first)
        yield* upstream.open
        const grant = yield* Fiber.join(second)
        const resubmitted = yield* coordinator.refresh(token("rt-1"))
        expect(value(resubmitted)).toEqual(value(grant))
        expect(upstream.calls).toHaveLength(1)
      })
    )
  )

  it.effect("different tokens do not share", () =>
    withCoordinator({}, (coordinator, upstream) =>
      Effect.gen(function* () {
        const [a, b] = yield* Effect.all([coordinator.refresh(token("rt-a")), coordinator.refresh(token("rt-b"))], {
          concurrency: "unbounded"
        })
        expect(value(a)).not.toEqual(value(b))
        expect(upstream.calls.sort()).toEqual(["rt-a", "rt-b"])
      })
    )
  )

  it.effect("kept grants are bounded: the least recently used is evicted", () =>
    withCoordinator({ maxEntries: 2 }, (coordinator, upstream) =>
      Effect.gen(function* () {
        yield* coordinator.refresh(token("rt-a"))
        yield* coordinator.refresh(token("rt-b"))
        yield* coordinator.refresh(token("rt-a")) // a is now the most recent
        yield* coordinator.refresh(token("rt-c")) // evicts b
        expect(upstream.calls).toEqual(["rt-a", "rt-b", "rt-c"])
        yield* coordinator.refresh(token("rt-a"))
        expect(upstream.calls).toHaveLength(3)
        expect(Exit.isFailure(yield* Effect.exit(coordinator.refresh(token("rt-b"))))).toBe(true)
        expect(upstream.calls).toHaveLength(4)
      })
    )
  )

  it.effect("invalid input is refused before any coordination or call", () =>
    withCoordinator({}, (coordinator, upstream) =>
      Effect.gen(function* () {
        const exit = yield* Effect.exit(coordinator.refresh(token("bad\u0000token")))
        expect(failureTag(exit)).toBe("InvalidInput")
        expect(upstream.calls).toHaveLength(0)
      })
    )
  )

  it.effect.each([
    [{ DDN_REUSE_WINDOW_MS: "-1" }, "DDN_REUSE_WINDOW_MS"],
    [{ DDN_REUSE_WINDOW_MS: "ten" }, "DDN_REUSE_WINDOW_MS"],
    [{ DDN_REUSE_MAX_ENTRIES: "0" }, "DDN_REUSE_MAX_ENTRIES"]
  ] as const)("a bad environment names the variable: %o", ([env, name]) =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Effect.withConfigProvider(Coordinator.config, ConfigProvider.fromMap(new Map(Object.entries(env))))
      )
      expect(String(error)).toContain(name)
    })
  )
})

describe("LruCache", () => {
  it("drops expired entries from the cold end and never grows past its capacity", () => {
    const cache = new LruCache<number>(1000)
    for (let i = 0; i < 10_000; i++) cache.set(`k${i}`, i, i + 10, i)
    expect(cache.size).toBeLessThanOrEqual(11)
    expect(cache.get("k9999", 9_999)).toBe(9999)
    expect(cache.get("k9999", 10_009)).toBeUndefined()
    const full = new LruCache<number>(100)
    for (let i = 0; i < 1000; i++) full.set(`k${i}`, i, Number.POSITIVE_INFINITY, 0)
    expect(full.size).toBe(100)
    expect(full.get("k0", 0)).toBeUndefined()
    expect(full.get("k999", 0)).toBe(999)
  })
})
