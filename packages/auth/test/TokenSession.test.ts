import { inspect } from "node:util"
import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import { DdnAuthClient } from "../src/DdnAuthClient.js"
import type * as RefreshError from "../src/RefreshError.js"
import { RateLimited, RefreshTokenInvalid, UpstreamUnavailable } from "../src/RefreshError.js"
import * as TokenSession from "../src/TokenSession.js"
import * as TokenStore from "../src/TokenStore.js"
import { failure } from "./utils/exits.js"
import { makeFakeDdn, secretMarker } from "./utils/FakeDdn.js"
import { awaitBlocked } from "./utils/fibers.js"
import { makeSimulatedClock } from "./utils/SimulatedClock.js"
import { makeBackgroundHarness, makeExpiredHarness, makeHarness, settle, subscribe } from "./utils/sessionHarness.js"

const value = Redacted.value
const access = (n: number) => `${secretMarker}-access-${n}`
const refresh = (n: number) => `${secretMarker}-refresh-${n}`
const unavailable = () => new UpstreamUnavailable({ reason: "Status", status: 503, attempts: 4 })

/**
 * A session's life as seen by its callers: after each wait (and, when given, DDN failing its next
 * refresh), `accessToken` hands out `access(expected)` while the store holds `refresh(expected)`,
 * and DDN has been called `calls` times.
 */
interface Timeline {
  readonly name: string
  readonly options?: Omit<TokenSession.Options, "backgroundRefresh">
  readonly expiresIn?: number
  readonly steps: ReadonlyArray<
    readonly [wait: Duration.DurationInput, expected: number, calls: number, failure?: RefreshError.RefreshError]
  >
}

/** Everything a string of an event or error could show: message, toString, JSON, util.inspect. */
const renderings = (u: unknown) =>
  [String(u), JSON.stringify(u), inspect(u, { depth: 10 }), u instanceof Error ? u.message : ""].join("\n")

describe("TokenSession", () => {
  it.scoped.each<Timeline>([
    {
      name: "hands out the current token while it is outside the margin, without calling DDN",
      steps: [
        [0, 1, 0],
        ["3539 seconds", 1, 0]
      ]
    },
    {
      name: "refreshes within the margin, and the rotated pair is in the store when the token is handed out",
      steps: [["3541 seconds", 2, 1]]
    },
    {
      name: "the margin is configurable",
      options: { refreshMargin: "10 minutes" },
      steps: [
        ["2999 seconds", 1, 0],
        ["2 seconds", 2, 1]
      ]
    },
    {
      name: "a token that lives shorter than the margin is refreshed at half its life, not in a loop",
      expiresIn: 30,
      steps: [
        ["14 seconds", 1, 0],
        ["2 seconds", 2, 1],
        [0, 2, 1]
      ]
    },
    {
      name: "while DDN fails, callers keep the unexpired token and DDN is not retried before the delay",
      options: { retryBaseDelay: "5 seconds" },
      steps: [
        ["3550 seconds", 1, 1, unavailable()],
        [0, 1, 1],
        ["5 seconds", 2, 2]
      ]
    },
    {
      name: "RateLimited: callers keep the unexpired token for the Retry-After",
      steps: [
        ["3550 seconds", 1, 1, new RateLimited({ retryAfter: Duration.seconds(30) })],
        ["29 seconds", 1, 1],
        ["1 second", 2, 2]
      ]
    }
  ])("$name", ({ options, expiresIn, steps }) =>
    Effect.gen(function* () {
      const { ddn, store, session } = yield* makeHarness(options, "minted", { expiresIn })
      for (const [wait, expected, calls, failure] of steps) {
        yield* TestClock.adjust(wait)
        if (failure !== undefined) ddn.failNext(failure)
        expect(value(yield* session.accessToken)).toBe(access(expected))
        expect(yield* store.current).toBe(refresh(expected))
        expect(ddn.calls()).toBe(calls)
      }
    })
  )

  it.scopedLive("30 simulated days of hourly rotations through accessToken: all persisted", () =>
    Effect.gen(function* () {
      const simulated = makeSimulatedClock({ horizon: "31 days" })
      const { ddn, store } = yield* Effect.gen(function* () {
        const harness = yield* makeHarness()
        for (let hour = 1; hour <= 720; hour++) {
          simulated.advance("1 hour")
          expect(value(yield* harness.session.accessToken)).toBe(access(hour + 1))
        }
        return harness
      }).pipe(Effect.withClock(simulated.clock))
      expect(ddn.calls()).toBe(720)
      expect(store.saved()).toEqual(Array.from({ length: 720 }, (_, i) => refresh(i + 2)))
    })
  )

  it.scopedLive("30 simulated days of background rotations (1-hour tokens, every 59 min): all persisted", () =>
    Effect.gen(function* () {
      const simulated = makeSimulatedClock({ horizon: "30 days" })
      // The first rotation is due at 3540 s, each next one 3540 s later: 732 fit in 30 days.
      const rotations = Math.floor((30 * 24 * 3600) / 3540)
      yield* Effect.gen(function* () {
        const { ddn, store, session } = yield* makeBackgroundHarness()
        // Past the last rotation the refresher's next sleep ends beyond the horizon: it is parked for good.
        yield* simulated.parked
        expect(ddn.calls()).toBe(rotations)
        expect(store.saved()).toEqual(Array.from({ length: rotations }, (_, i) => refresh(i + 2)))
        expect(simulated.now()).toBe(rotations * 3540 * 1000)
        expect(value(yield* session.accessToken)).toBe(access(rotations + 1))
        expect(ddn.calls()).toBe(rotations)
      }).pipe(Effect.withClock(simulated.clock))
    })
  )

  it.scoped("under TestClock, the background refresher rotates at each margin without a caller", () =>
    Effect.gen(function* () {
      const { ddn, store, session } = yield* makeBackgroundHarness()
      const events = yield* subscribe(session)
      for (let rotation = 1; rotation <= 48; rotation++) {
        yield* TestClock.adjust("3540 seconds")
        expect(yield* Queue.take(events)).toMatchObject({ _tag: "Refreshed", source: "Upstream" })
        expect(store.saved()).toHaveLength(rotation)
      }
      expect(ddn.calls()).toBe(48)
      expect(value(yield* session.accessToken)).toBe(access(49))
      expect(ddn.calls()).toBe(48)
    })
  )

  it.scoped("100 concurrent callers at expiry share exactly one refresh", () =>
    Effect.gen(function* () {
      const { ddn, store, session } = yield* makeExpiredHarness()
      const gate = yield* ddn.holdRefreshes()
      const callers = yield* Effect.forEach(Array.from({ length: 100 }), () => Effect.fork(session.accessToken))
      yield* settle(() => ddn.calls() === 1)
      // Every caller waits on the one refresh held at DDN before it is let through.
      yield* Effect.forEach(callers, awaitBlocked)
      yield* Deferred.succeed(gate, undefined)
      const tokens = yield* Effect.forEach(callers, Fiber.join)
      expect(new Set(tokens.map(value))).toEqual(new Set([access(2)]))
      expect(ddn.calls()).toBe(1)
      expect(store.saved()).toEqual([refresh(2)])
    })
  )

  it.scoped("a refresh is not cut off by the caller's interruption: the rotation is stored and used", () =>
    Effect.gen(function* () {
      const { ddn, store, session } = yield* makeExpiredHarness()
      const gate = yield* ddn.holdRefreshes()
      const caller = yield* Effect.fork(session.accessToken)
      yield* settle(() => ddn.calls() === 1)
      expect(Exit.isInterrupted(yield* Fiber.interrupt(caller))).toBe(true)
      expect(store.saved()).toEqual([])

      yield* Deferred.succeed(gate, undefined)
      expect(value(yield* session.accessToken)).toBe(access(2))
      expect(store.saved()).toEqual([refresh(2)])
      expect(ddn.calls()).toBe(1)
    })
  )

  it.scoped("closing the session's scope ends a refresh in flight: nothing is saved after it", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const { ddn, store, session } = yield* Scope.extend(makeExpiredHarness(), scope)
      const gate = yield* ddn.holdRefreshes()
      const caller = yield* Effect.fork(session.accessToken)
      yield* settle(() => ddn.calls() === 1)
      yield* Scope.close(scope, Exit.void)
      expect(Exit.isInterrupted(yield* Fiber.await(caller))).toBe(true)
      // The refresh held at DDN ended with the scope: opening the gate has nothing left to let through.
      expect(ddn.running()).toBe(0)
      yield* Deferred.succeed(gate, undefined)
      expect(store.saved()).toEqual([])
    })
  )

  it.scoped("subscribe misses nothing that happens once it has returned", () =>
    Effect.gen(function* () {
      const { session } = yield* makeHarness()
      const events = yield* session.subscribe
      yield* session.refresh
      expect(yield* Queue.take(events)).toMatchObject({ _tag: "Refreshed", source: "Upstream" })
    })
  )

  it.scoped("a failed store write hands out no token; the pending grant is saved by the next call", () =>
    Effect.gen(function* () {
      const { ddn, store, session } = yield* makeExpiredHarness()
      store.setFailSaves(true)
      const error = failure(yield* Effect.exit(session.accessToken))
      expect(error).toMatchObject({ _tag: "TokenStoreError", reason: "WriteFailed" })
      expect(yield* store.current).toBe(refresh(1))
      expect(ddn.calls()).toBe(1)

      // Still failing: no token, and the spent refresh token is not sent again.
      expect(failure(yield* Effect.exit(session.refresh))).toMatchObject({ _tag: "TokenStoreError" })
      expect(ddn.calls()).toBe(1)

      store.setFailSaves(false)
      expect(value(yield* session.accessToken)).toBe(access(2))
      expect(yield* store.current).toBe(refresh(2))
      expect(ddn.calls()).toBe(1)
    })
  )

  it.scoped("RefreshTokenExpired with a newer grant in the store: adopted without another refresh", () =>
    Effect.gen(function* () {
      const { ddn, store, session } = yield* makeHarness()
      const events = yield* subscribe(session)
      yield* TestClock.adjust("3550 seconds")
      const elsewhere = ddn.rotateElsewhere(Redacted.make(refresh(1)), yield* Clock.currentTimeMillis)
      yield* store.service.save(elsewhere)

      expect(value(yield* session.accessToken)).toBe(access(2))
      expect(ddn.calls()).toBe(1)
      expect(yield* Queue.take(events)).toMatchObject({ _tag: "Refreshed", source: "Store" })
      expect(value(yield* session.accessToken)).toBe(access(2))
      expect(ddn.calls()).toBe(1)
    })
  )

  it.scoped("RefreshTokenInvalid with a newer bare refresh token in the store: adopted and refreshed", () =>
    Effect.gen(function* () {
      const { ddn, store, session } = yield* makeExpiredHarness()
      const elsewhere = ddn.rotateElsewhere(Redacted.make(refresh(1)))
      yield* store.service.save(new TokenStore.RefreshTokenOnly({ refreshToken: elsewhere.refreshToken }))
      ddn.failNext(new RefreshTokenInvalid())

      expect(value(yield* session.accessToken)).toBe(access(3))
      expect(ddn.calls()).toBe(2)
      expect(yield* store.current).toBe(refresh(3))
    })
  )

  it.scoped("RefreshTokenExpired with nothing newer: Revoked and a typed error; a new sign-in is picked up", () =>
    Effect.gen(function* () {
      const { ddn, store, session } = yield* makeHarness()
      const events = yield* subscribe(session)
      yield* TestClock.adjust("1 hour")
      ddn.rotateElsewhere(Redacted.make(refresh(1)))

      expect(failure(yield* Effect.exit(session.accessToken))).toMatchObject({ _tag: "RefreshTokenExpired" })
      expect(yield* Queue.take(events)).toMatchObject({ _tag: "Revoked", error: { _tag: "RefreshTokenExpired" } })
      expect(ddn.calls()).toBe(1)

      // Revoked: later calls read the store again but do not send the refused token.
      expect(failure(yield* Effect.exit(session.accessToken))).toMatchObject({ _tag: "RefreshTokenExpired" })
      expect(ddn.calls()).toBe(1)

      const signIn = ddn.mint(yield* Clock.currentTimeMillis)
      yield* store.service.save(signIn)
      expect(value(yield* session.accessToken)).toBe(value(signIn.accessToken))
      expect(ddn.calls()).toBe(1)
      expect(yield* Queue.take(events)).toMatchObject({ _tag: "Refreshed", source: "Store" })
    })
  )

  it.scoped("changes reports Refreshed, RefreshFailed, Expired and Revoked, and no event or error holds a token", () =>
    Effect.gen(function* () {
      const { ddn, session } = yield* makeHarness()
      const events = yield* subscribe(session)
      const errors: Array<unknown> = []
      const attempt = Effect.tapError(session.accessToken, (error) => Effect.sync(() => errors.push(error)))

      // Within the margin and DDN down: the still-valid token, and a RefreshFailed.
      yield* TestClock.adjust("3570 seconds")
      ddn.failNext(unavailable())
      expect(value(yield* attempt)).toBe(access(1))
      // Past expiry and DDN still down: the error, a RefreshFailed and an Expired.
      yield* TestClock.adjust("1 minute")
      ddn.failNext(unavailable())
      yield* Effect.exit(attempt)
      // DDN back: a Refreshed.
      expect(value(yield* attempt)).toBe(access(2))
      // The refresh token spent elsewhere and nothing newer stored: a Revoked.
      ddn.rotateElsewhere(Redacted.make(refresh(2)))
      yield* TestClock.adjust("1 hour")
      yield* Effect.exit(attempt)

      const seen = Chunk.toReadonlyArray(yield* Queue.takeAll(events))
      expect(seen.map((event) => event._tag)).toEqual([
        "RefreshFailed",
        "RefreshFailed",
        "Expired",
        "Refreshed",
        "Revoked"
      ])
      expect(seen[2]).toMatchObject({ _tag: "Expired", expiredAt: DateTime.unsafeMake(3_600_000) })
      expect(seen[3]).toMatchObject({ _tag: "Refreshed", expiresAt: DateTime.unsafeMake(3_630_000 + 3_600_000) })
      expect(errors.map((error) => (error as { _tag: string })._tag)).toEqual([
        "UpstreamUnavailable",
        "RefreshTokenExpired"
      ])
      const everything = [...seen, ...errors].map(renderings).join("\n")
      expect(everything).not.toContain(secretMarker)
      for (const token of ddn.issuedTokens()) expect(everything).not.toContain(token)
    })
  )

  it.scoped("refresh rotates even a fresh token; invalidate rotates only the current token", () =>
    Effect.gen(function* () {
      const { ddn, session } = yield* makeHarness()
      expect(value(yield* session.refresh)).toBe(access(2))
      expect(ddn.calls()).toBe(1)
      expect(value(yield* session.invalidate(Redacted.make(access(1))))).toBe(access(2))
      expect(ddn.calls()).toBe(1)
      expect(value(yield* session.invalidate(Redacted.make(access(2))))).toBe(access(3))
      expect(ddn.calls()).toBe(2)
    })
  )

  it.scoped("20 concurrent invalidations of one token cause one refresh", () =>
    Effect.gen(function* () {
      const { ddn, session } = yield* makeHarness()
      const stale = yield* session.accessToken
      const tokens = yield* Effect.all(
        Array.from({ length: 20 }, () => session.invalidate(stale)),
        { concurrency: "unbounded" }
      )
      expect(new Set(tokens.map(value))).toEqual(new Set([access(2)]))
      expect(ddn.calls()).toBe(1)
    })
  )

  it.scoped("an empty store is NoSession until someone signs in", () =>
    Effect.gen(function* () {
      const { ddn, store, session } = yield* makeHarness({}, "empty")
      const error = failure(yield* Effect.exit(session.accessToken))
      expect(error).toBeInstanceOf(TokenSession.NoSession)
      expect(error.message).toContain("no DDN session")
      yield* store.service.save(new TokenStore.RefreshTokenOnly({ refreshToken: ddn.mint(0).refreshToken }))
      expect(value(yield* session.accessToken)).toBe(access(2))
      expect(yield* store.current).toBe(refresh(2))
    })
  )

  it.scoped("a corrupt store fails the session's construction with a TokenStoreError", () =>
    Effect.gen(function* () {
      const ddn = makeFakeDdn()
      const corrupt = TokenStore.TokenStore.of({
        load: Effect.fail(new TokenStore.TokenStoreError({ reason: "Corrupt", detail: "content: Transformation" })),
        save: () => Effect.void
      })
      const exit = yield* Effect.exit(
        TokenSession.make().pipe(
          Effect.provideService(DdnAuthClient, ddn.client),
          Effect.provideService(TokenStore.TokenStore, corrupt)
        )
      )
      expect(failure(exit)).toMatchObject({ _tag: "TokenStoreError", reason: "Corrupt" })
    })
  )

  it.scoped("the background refresher retries failures with backoff and stops with its scope", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const { ddn, session } = yield* Scope.extend(makeBackgroundHarness(), scope)
      const events = yield* Scope.extend(subscribe(session), scope)
      ddn.failNext(unavailable(), unavailable(), unavailable())
      const firstFour = yield* Effect.fork(Queue.takeN(events, 4))
      yield* TestClock.adjust("3540 seconds")
      // Time moves a second at a time until the four events are in; the success is dated by its
      // grant (`expiresAt` is an hour after DDN's answer), not by the second the loop saw it in.
      for (let second = 0; second < 60 && Option.isNone(yield* Fiber.poll(firstFour)); second++) {
        yield* TestClock.adjust("1 second")
      }
      const seen = Chunk.toReadonlyArray(yield* Fiber.join(firstFour))
      expect(seen.map((event) => event._tag)).toEqual(["RefreshFailed", "RefreshFailed", "RefreshFailed", "Refreshed"])
      // Backoff from 1 s, doubling, jittered: about 1 + 2 + 4 seconds from the first failure to the success.
      const refreshed = seen[3]!
      const succeededAfter =
        refreshed._tag === "Refreshed" ? DateTime.toEpochMillis(refreshed.expiresAt) / 1000 - 3600 - 3540 : Number.NaN
      expect(succeededAfter).toBeGreaterThanOrEqual(5)
      expect(succeededAfter).toBeLessThanOrEqual(10)
      expect(ddn.calls()).toBe(4)

      // The refresher ended with its scope: ten hours of due margins (run by the TestClock) call nobody.
      yield* Scope.close(scope, Exit.void)
      yield* TestClock.adjust("10 hours")
      expect(ddn.calls()).toBe(4)
    })
  )
})
