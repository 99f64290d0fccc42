/**
 * A DDN session for Effect programs: keeps a valid access token at hand, refreshes it through
 * `DdnAuthClient` shortly before it expires, and persists every rotated pair in a `TokenStore`.
 *
 * Guarantees:
 * - **Single flight.** Concurrent callers share one refresh; a refresh runs in a fiber of its own that
 *   callers join, so interrupting a caller only ends its wait: the refresh and the save go on.
 * - **Persist first.** A rotated refresh token is saved before the new access token is handed out.
 *   If the save fails, the caller gets the `TokenStoreError` and no token. DDN has already spent the
 *   old refresh token by then, so the new grant is kept in memory as *pending* and its save retried by
 *   the next call, before anything else: the session is never lost to a failed write, and the old
 *   refresh token is never sent again.
 * - **Adoption.** When DDN refuses the refresh token (400/401), the store is read again: if it holds a
 *   different refresh token, another process (or session) sharing the store has rotated, and its pair
 *   is adopted. Only when the store has nothing newer is the session `Revoked`; later calls then read
 *   the store again (e.g. after a new login) without calling DDN with the refused token.
 * - **Never a token in an event, an error or a log line.**
 *
 * Sessions in several processes may share a file store, but should not refresh at the same moment:
 * DDN revokes a token family on reuse, and there is no cross-process lock.
 *
 * @since 0.1.0
 */

import * as Clock from "effect/Clock"
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as SynchronizedRef from "effect/SynchronizedRef"
import { DdnAuthClient } from "./DdnAuthClient.js"
import { RefreshError, type RefreshTokenExpired, type RefreshTokenInvalid } from "./RefreshError.js"
import type { TokenGrant } from "./TokenGrant.js"
import { isGrant, type StoredSession, TokenStore, TokenStoreError } from "./TokenStore.js"

/** The token store holds no session: nobody has signed in (or saved a refresh token) yet. */
export class NoSession extends Schema.TaggedError<NoSession>()("NoSession", {}) {
  override get message(): string {
    return "There is no DDN session: the token store holds no refresh token"
  }
}

/** Every way a session can fail to produce an access token. */
export type SessionError = RefreshError | TokenStoreError | NoSession

/** The schema of `SessionError`. */
export const SessionError = Schema.Union(RefreshError, TokenStoreError, NoSession)

/** DDN's refusals of a refresh token (400 and 401): the ones that can revoke a session. */
export type Rejection = RefreshTokenInvalid | RefreshTokenExpired

/** Where a new grant came from. */
export type GrantSource = "Upstream" | "Store"

/** What happened to a session, as `changes` reports it. Events never carry a token. */
export type SessionEvent = Data.TaggedEnum<{
  /** A new grant is in use: rotated by DDN and saved (`Upstream`), or adopted from the store (`Store`). */
  Refreshed: { readonly expiresAt: DateTime.Utc; readonly source: GrantSource }
  /** A refresh or its save failed; the session may still hold a usable token. */
  RefreshFailed: { readonly error: SessionError }
  /** The access token expired and could not be replaced. */
  Expired: { readonly expiredAt: DateTime.Utc }
  /** DDN refused the refresh token and the store holds nothing newer: a new sign-in is needed. */
  Revoked: { readonly error: Rejection }
}>

/** Constructors and matchers of `SessionEvent`. */
export const SessionEvent = Data.taggedEnum<SessionEvent>()

/** The session service. */
export class TokenSession extends Context.Tag("@ddn/auth/TokenSession")<TokenSession, Service>() {}

/** What a session can do. */
export interface Service {
  /**
   * A valid access token: the current one while it is outside the refresh margin, else a refreshed
   * one. If refreshing fails with DDN unavailable or rate-limited, the current token is still returned
   * while it has not expired, and no new refresh is tried for `retryBaseDelay` (or the `Retry-After`).
   */
  readonly accessToken: Effect.Effect<Redacted.Redacted<string>, SessionError>
  /** Refreshes now (or joins the refresh in flight) and returns the new access token. */
  readonly refresh: Effect.Effect<Redacted.Redacted<string>, SessionError>
  /**
   * Reports that the API refused `accessToken`, and returns a replacement. Refreshes only if it is still
   * the current token, so any number of concurrent 401s for one token cause one refresh.
   */
  readonly invalidate: (
    accessToken: Redacted.Redacted<string>
  ) => Effect.Effect<Redacted.Redacted<string>, SessionError>
  /** The session's events from the moment of subscription. */
  readonly changes: Stream.Stream<SessionEvent>
}

/** How eagerly to refresh and how to retry in the background. */
export interface Options {
  /**
   * Refresh when the access token expires within this margin, or within half its lifetime when that is
   * shorter (so a short-lived token is not refreshed in a loop). Default 60 s.
   */
  readonly refreshMargin?: Duration.DurationInput | undefined
  /**
   * Run a fiber, for the life of the scope, that refreshes when the margin is reached without waiting
   * for a caller, retrying failures with backoff. Default false.
   */
  readonly backgroundRefresh?: boolean | undefined
  /** First delay between retries of a failed refresh; later background retries double it. Default 1 s. */
  readonly retryBaseDelay?: Duration.DurationInput | undefined
  /** Longest delay between background retries. Default 5 minutes. */
  readonly retryMaxDelay?: Duration.DurationInput | undefined
}

/** The defaults of `Options`. */
export const defaults = {
  refreshMargin: Duration.seconds(60),
  backgroundRefresh: false,
  retryBaseDelay: Duration.seconds(1),
  retryMaxDelay: Duration.minutes(5)
} as const

/** Adoptions of a newer stored session within one refresh, before giving up on a store that keeps changing. */
const maxAdoptions = 3

/** What a caller needs from the session. */
type Demand =
  /** `accessToken`: a fresh token, or while refreshing fails, one that has not expired. */
  | { readonly _tag: "Usable" }
  /** The background refresher: a fresh token or a failure. */
  | { readonly _tag: "Fresh" }
  /** `refresh`: a token from a refresh that has not completed before the call. */
  | { readonly _tag: "Rotated" }
  /** `invalidate`: any unexpired token but `stale`. */
  | { readonly _tag: "Replacing"; readonly stale: Redacted.Redacted<string> }

const usable: Demand = { _tag: "Usable" }
const fresh: Demand = { _tag: "Fresh" }
const rotated: Demand = { _tag: "Rotated" }

interface Core {
  /** The session as last saved to, or read from, the store. */
  readonly session: Option.Option<StoredSession>
  /** A grant DDN issued whose save failed: its refresh token is the only live one. */
  readonly pending: Option.Option<TokenGrant>
  /** Set when DDN refused the refresh token and the store held nothing newer. */
  readonly revoked: Option.Option<Rejection>
  /** After a failed refresh, `Usable` callers get the unexpired current token until this time (epoch ms). */
  readonly retryNotBefore: number
  /** Whether `Expired` was published for the current grant. */
  readonly expiryAnnounced: boolean
}

interface State extends Core {
  readonly inFlight: Option.Option<Fiber.Fiber<Redacted.Redacted<string>, SessionError>>
}

type Step =
  | { readonly _tag: "Ready"; readonly token: Redacted.Redacted<string> }
  | {
      readonly _tag: "Join"
      readonly fiber: Fiber.Fiber<Redacted.Redacted<string>, SessionError>
      readonly started: boolean
    }

const sameToken = (a: Redacted.Redacted<string>, b: Redacted.Redacted<string>) =>
  Redacted.value(a) === Redacted.value(b)

const isRejection = (error: RefreshError): error is Rejection =>
  error._tag === "RefreshTokenExpired" || error._tag === "RefreshTokenInvalid"

const makeSession = (options: Options) =>
  Effect.gen(function* () {
    const client = yield* DdnAuthClient
    const store = yield* TokenStore
    const marginMillis = Duration.toMillis(Duration.decode(options.refreshMargin ?? defaults.refreshMargin))
    const retryBaseDelay = Duration.decode(options.retryBaseDelay ?? defaults.retryBaseDelay)
    const retryMaxDelay = Duration.decode(options.retryMaxDelay ?? defaults.retryMaxDelay)

    const events = yield* PubSub.unbounded<SessionEvent>()
    const publish = (event: SessionEvent) => PubSub.publish(events, event)
    const ref = yield* SynchronizedRef.make<State>({
      session: yield* store.load,
      pending: Option.none(),
      revoked: Option.none(),
      retryNotBefore: 0,
      expiryAnnounced: false,
      inFlight: Option.none()
    })

    const remainingMillis = (grant: TokenGrant, now: number) => DateTime.toEpochMillis(grant.expiresAt) - now
    const marginOf = (grant: TokenGrant) => Math.min(marginMillis, (grant.expiresIn * 1000) / 2)
    const isFresh = (grant: TokenGrant, now: number) => remainingMillis(grant, now) > marginOf(grant)
    const isUnexpired = (grant: TokenGrant, now: number) => remainingMillis(grant, now) > 0

    /** The token that satisfies `demand` without any I/O, if there is one. */
    const ready = (core: Core, demand: Demand, now: number): Option.Option<Redacted.Redacted<string>> => {
      if (Option.isSome(core.pending) || Option.isSome(core.revoked)) return Option.none()
      return Option.filterMap(core.session, (session) => {
        if (!isGrant(session)) return Option.none()
        const token = Option.some(session.accessToken)
        switch (demand._tag) {
          case "Usable":
            return isFresh(session, now) || (isUnexpired(session, now) && now < core.retryNotBefore)
              ? token
              : Option.none()
          case "Fresh":
            return isFresh(session, now) ? token : Option.none()
          case "Rotated":
            return Option.none()
          case "Replacing":
            return !sameToken(session.accessToken, demand.stale) && isUnexpired(session, now) ? token : Option.none()
        }
      })
    }

    /**
     * Brings the session to a state that satisfies `demand`: saves a pending grant, reads the store,
     * refreshes, adopts. Runs in its own fiber; the state it reached is committed however it ends.
     */
    const synchronise = (start: Core, demand: Demand): Effect.Effect<Redacted.Redacted<string>, SessionError> => {
      let core = start
      const patch = (changes: Partial<Core>) => {
        core = { ...core, ...changes }
      }
      /** After a new grant arrived, a `refresh` is satisfied by anything that is still valid. */
      const satisfiedBy = demand._tag === "Rotated" ? usable : demand
      const readyNow = (wanted: Demand) => Effect.map(Clock.currentTimeMillis, (now) => ready(core, wanted, now))

      const persist = (grant: TokenGrant) =>
        store.save(grant).pipe(
          Effect.uninterruptible,
          Effect.tapError((error) =>
            Effect.zipRight(
              publish(SessionEvent.RefreshFailed({ error })),
              Effect.logWarning(
                "Saving the rotated DDN session failed; the new grant is held in memory and its save retried on the next call"
              ).pipe(Effect.annotateLogs({ reason: error.reason }))
            )
          ),
          Effect.zipRight(
            Effect.sync(() =>
              patch({ session: Option.some(grant), pending: Option.none(), retryNotBefore: 0, expiryAnnounced: false })
            )
          ),
          Effect.zipRight(publish(SessionEvent.Refreshed({ expiresAt: grant.expiresAt, source: "Upstream" })))
        )

      /** The store's session if it differs from `refused`: another holder of the store rotated. */
      const newerInStore = (refused: StoredSession) =>
        Effect.map(
          store.load,
          Option.filter((stored) => !sameToken(stored.refreshToken, refused.refreshToken))
        )

      const adopt = (stored: StoredSession) =>
        Effect.gen(function* () {
          patch({ session: Option.some(stored), revoked: Option.none(), retryNotBefore: 0, expiryAnnounced: false })
          yield* Effect.logInfo("Adopted the DDN session another holder of the token store rotated")
          const now = yield* Clock.currentTimeMillis
          if (isGrant(stored) && isUnexpired(stored, now)) {
            yield* publish(SessionEvent.Refreshed({ expiresAt: stored.expiresAt, source: "Store" }))
          }
        })

      const announceExpiry = Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const grant = Option.filter(core.session, isGrant)
        if (Option.isNone(grant) || isUnexpired(grant.value, now) || core.expiryAnnounced) return
        patch({ expiryAnnounced: true })
        yield* publish(SessionEvent.Expired({ expiredAt: grant.value.expiresAt }))
      })

      const refreshFrom = (
        session: StoredSession,
        adoptionsLeft: number
      ): Effect.Effect<Redacted.Redacted<string>, SessionError> =>
        Effect.gen(function* () {
          const outcome = yield* Effect.either(client.refresh(session.refreshToken))
          if (Either.isRight(outcome)) {
            const grant = outcome.right
            patch({ pending: Option.some(grant) })
            yield* persist(grant)
            return grant.accessToken
          }
          const error = outcome.left
          if (isRejection(error)) {
            const newer = yield* newerInStore(session).pipe(
              Effect.tapError(() => publish(SessionEvent.RefreshFailed({ error })))
            )
            if (Option.isNone(newer)) {
              patch({ revoked: Option.some(error) })
              yield* publish(SessionEvent.Revoked({ error }))
              return yield* error
            }
            yield* adopt(newer.value)
            const token = yield* readyNow(satisfiedBy)
            if (Option.isSome(token)) return token.value
            if (adoptionsLeft > 0) return yield* refreshFrom(newer.value, adoptionsLeft - 1)
            yield* publish(SessionEvent.RefreshFailed({ error }))
            return yield* error
          }
          yield* publish(SessionEvent.RefreshFailed({ error }))
          const now = yield* Clock.currentTimeMillis
          const wait = error._tag === "RateLimited" ? error.retryAfter : retryBaseDelay
          patch({ retryNotBefore: now + Duration.toMillis(wait) })
          yield* announceExpiry
          const fallback = yield* readyNow(demand)
          if (Option.isSome(fallback)) {
            yield* Effect.logWarning(
              "Refreshing the DDN session failed; using the current access token until it expires"
            )
            return fallback.value
          }
          return yield* error
        })

      const run = Effect.gen(function* () {
        if (Option.isSome(core.pending)) {
          yield* persist(core.pending.value)
          const token = yield* readyNow(satisfiedBy)
          if (Option.isSome(token)) return token.value
        }
        if (Option.isSome(core.revoked)) {
          const refused = core.revoked.value
          const newer = Option.isSome(core.session) ? yield* newerInStore(core.session.value) : yield* store.load
          if (Option.isNone(newer)) return yield* refused
          yield* adopt(newer.value)
          const token = yield* readyNow(satisfiedBy)
          if (Option.isSome(token)) return token.value
        }
        if (Option.isNone(core.session)) {
          const loaded = yield* store.load
          if (Option.isNone(loaded)) return yield* new NoSession()
          patch({ session: loaded })
          const token = yield* readyNow(demand)
          if (Option.isSome(token)) return token.value
        }
        return yield* refreshFrom(Option.getOrThrow(core.session), maxAdoptions)
      })

      return Effect.onExit(run, () => SynchronizedRef.set(ref, { ...core, inFlight: Option.none() }))
    }

    /** Under the lock: a ready token, the refresh in flight, or a new one started in a fiber of its own. */
    const decide = (state: State, demand: Demand): Effect.Effect<readonly [Step, State]> => {
      if (Option.isSome(state.inFlight)) {
        return Effect.succeed([{ _tag: "Join", fiber: state.inFlight.value, started: false }, state])
      }
      return Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Option.match(ready(state, demand, now), {
          onSome: (token): Effect.Effect<readonly [Step, State]> => Effect.succeed([{ _tag: "Ready", token }, state]),
          onNone: () =>
            Effect.map(
              Effect.forkDaemon(Effect.interruptible(synchronise(state, demand))),
              (fiber): readonly [Step, State] => [
                { _tag: "Join", fiber, started: true },
                { ...state, inFlight: Option.some(fiber) }
              ]
            )
        })
      )
    }

    const obtain = (demand: Demand, joinedOthers = 0): Effect.Effect<Redacted.Redacted<string>, SessionError> =>
      Effect.gen(function* () {
        const state = yield* SynchronizedRef.get(ref)
        if (Option.isNone(state.inFlight)) {
          const token = ready(state, demand, yield* Clock.currentTimeMillis)
          if (Option.isSome(token)) return token.value
        }
        const step = yield* SynchronizedRef.modifyEffect(ref, (state) => decide(state, demand)).pipe(
          Effect.uninterruptible
        )
        if (step._tag === "Ready") return step.token
        const token = yield* Fiber.join(step.fiber)
        const unmet = demand._tag === "Replacing" && sameToken(token, demand.stale)
        return !step.started && unmet && joinedOthers < 1 ? yield* obtain(demand, joinedOthers + 1) : token
      })

    const service = TokenSession.of({
      accessToken: obtain(usable).pipe(Effect.withSpan("TokenSession.accessToken")),
      refresh: obtain(rotated).pipe(Effect.withSpan("TokenSession.refresh")),
      invalidate: Effect.fn("TokenSession.invalidate")((accessToken: Redacted.Redacted<string>) =>
        obtain({ _tag: "Replacing", stale: accessToken })
      ),
      changes: Stream.fromPubSub(events)
    })

    /** Time until the margin of the current grant is reached; zero when there is nothing fresh to wait on. */
    const dueIn = Effect.gen(function* () {
      const state = yield* SynchronizedRef.get(ref)
      const now = yield* Clock.currentTimeMillis
      if (Option.isSome(state.pending) || Option.isSome(state.revoked)) return Duration.zero
      return Option.match(Option.filter(state.session, isGrant), {
        onNone: () => Duration.zero,
        onSome: (grant) => Duration.millis(Math.max(0, remainingMillis(grant, now) - marginOf(grant)))
      })
    })

    const backoff = Schedule.exponential(retryBaseDelay).pipe(
      Schedule.union(Schedule.spaced(retryMaxDelay)),
      Schedule.jittered
    )

    const keepFresh = Effect.gen(function* () {
      yield* Effect.sleep(yield* dueIn)
      yield* obtain(fresh).pipe(Effect.retry(backoff))
      if (Duration.isZero(yield* dueIn)) yield* Effect.sleep(retryBaseDelay)
    }).pipe(Effect.forever, Effect.withSpan("TokenSession.backgroundRefresh"))

    return { service, keepFresh }
  })

/**
 * Builds a session over the `DdnAuthClient` and `TokenStore` in context, reading the store once up
 * front. With `backgroundRefresh: true` it also needs a `Scope`, which stops the refresher.
 */
export function make(
  options?: Options & { readonly backgroundRefresh?: false | undefined }
): Effect.Effect<Service, TokenStoreError, DdnAuthClient | TokenStore>
export function make(
  options: Options
): Effect.Effect<Service, TokenStoreError, DdnAuthClient | TokenStore | Scope.Scope>
export function make(
  options: Options = {}
): Effect.Effect<Service, TokenStoreError, DdnAuthClient | TokenStore | Scope.Scope> {
  return Effect.flatMap(makeSession(options), ({ service, keepFresh }) =>
    options.backgroundRefresh === true ? Effect.as(Effect.forkScoped(keepFresh), service) : Effect.succeed(service)
  )
}

/** The session as a layer; a background refresher, when asked for, lives as long as the layer. */
export const layer = (options: Options = {}): Layer.Layer<TokenSession, TokenStoreError, DdnAuthClient | TokenStore> =>
  Layer.scoped(TokenSession, make(options))

/** The session as a layer, from a `Config` of `Options`. */
export const layerConfig = (
  options: Config.Config<Options>
): Layer.Layer<TokenSession, TokenStoreError | ConfigError.ConfigError, DdnAuthClient | TokenStore> =>
  Layer.scoped(TokenSession, Effect.flatMap(options, make))
