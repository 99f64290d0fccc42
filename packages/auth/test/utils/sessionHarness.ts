import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import { DdnAuthClient } from "../../src/DdnAuthClient.js"
import * as TokenSession from "../../src/TokenSession.js"
import * as TokenStore from "../../src/TokenStore.js"
import { makeFakeDdn } from "./FakeDdn.js"
import { makeRecordingStore } from "./RecordingStore.js"

/**
 * A session over a fake DDN and a recording memory store seeded with a freshly minted grant
 * (`SECRET-access-1` / `SECRET-refresh-1`, expiring an hour after the current `Clock` time).
 */
export const makeHarness = (
  options: TokenSession.Options & { readonly backgroundRefresh?: false | undefined } = {},
  seed: "minted" | "empty" = "minted",
  ddnOptions: Parameters<typeof makeFakeDdn>[0] = {}
) =>
  Effect.gen(function* () {
    const ddn = makeFakeDdn(ddnOptions)
    const store = yield* makeRecordingStore(seed === "minted" ? ddn.mint(yield* Clock.currentTimeMillis) : undefined)
    const session = yield* TokenSession.make(options).pipe(
      Effect.provideService(DdnAuthClient, ddn.client),
      Effect.provideService(TokenStore.TokenStore, store.service)
    )
    return { ddn, store, session }
  })

/** `makeHarness` an hour on: the minted access token has just expired. */
export const makeExpiredHarness = (options: Parameters<typeof makeHarness>[0] = {}) =>
  Effect.tap(makeHarness(options), () => TestClock.adjust("1 hour"))

/** `makeHarness` with the background refresher, for the life of the current scope. */
export const makeBackgroundHarness = (options: TokenSession.Options = {}) =>
  Effect.gen(function* () {
    const ddn = makeFakeDdn()
    const store = yield* makeRecordingStore(ddn.mint(yield* Clock.currentTimeMillis))
    const session = yield* TokenSession.make({ ...options, backgroundRefresh: true }).pipe(
      Effect.provideService(DdnAuthClient, ddn.client),
      Effect.provideService(TokenStore.TokenStore, store.service)
    )
    return { ddn, store, session }
  })

/** The session's events for the life of the scope, from the moment this returns; they queue up until taken. */
export const subscribe = (
  session: TokenSession.Service
): Effect.Effect<Queue.Dequeue<TokenSession.SessionEvent>, never, Scope.Scope> => session.subscribe

/** Lets fibers that are not children of the test fiber (daemons, scoped fibers) run until `done` holds. */
export const settle = (done: () => boolean, rounds = 1000) =>
  Effect.gen(function* () {
    for (let round = 0; round < rounds && !done(); round++) yield* Effect.yieldNow()
    if (!done()) return yield* Effect.dieMessage("settle: the condition never held")
  })
