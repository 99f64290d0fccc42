/**
 * A DDN session for Effect programs: keeps a valid access token at hand, refreshes it through
 * `DdnAuthClient` shortly before it expires, and persists every rotated pair in a `TokenStore`.
 *
 * Guarantees:
 * - **Single flight.** One refresh at a time, under a lock; a caller that waited for it reads the state
 *   again and takes what the refresh before it brought. The locked part runs in a fiber of the session's
 *   scope that callers join, so interrupting a caller only ends its wait (the refresh and the save go
 *   on), and closing the scope ends it.
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

import * as Chunk from "effect/Chunk"
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
import * as Queue from "effect/Queue"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import { DdnAuthClient } from "./DdnAuthClient.js"
import { RefreshError, type RefreshTokenExpired, type RefreshTokenInvalid } from "./RefreshError.js"
import type { TokenGrant } from "./TokenGrant.js"
import { isGrant, type StoredSession, TokenStore, TokenStoreError } from "./TokenStore.js"

/**
 * The token store holds no session: nobody has signed in (or saved a refresh token) yet.
 *
 * @since 0.1.0
 * @category errors
 */
export class NoSession extends Schema.TaggedError<NoSession>()("NoSession", {}) {
  override get message(): string {
    return "There is no DDN session: the token store holds no refresh token"
  }
}

/**
 * Every way a session can fail to produce an access token.
 *
 * @since 0.1.0
 * @category errors
 */
export type SessionError = RefreshError | TokenStoreError | NoSession

/**
 * The schema of `SessionError`.
 *
 * @since 0.1.0
 * @category errors
 */
export const SessionError = Schema.Union(RefreshError, TokenStoreError, NoSession)

/**
 * DDN's refusals of a refresh token (400 and 401): the ones that can revoke a session.
 *
 * @since 0.1.0
 * @category errors
 */
export type Rejection = RefreshTokenInvalid | RefreshTokenExpired

/**
 * Where a new grant came from.
 *
 * @since 0.1.0
 * @category models
 */
export type GrantSource = "Upstream" | "Store"

/**
 * What happened to a session, as `changes` reports it. Events never carry a token.
 *
 * @since 0.1.0
 * @category models
 */
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

/**
 * Constructors and matchers of `SessionEvent`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const SessionEvent = Data.taggedEnum<SessionEvent>()

/**
 * The session service.
 *
 * @since 0.1.0
 * @category tags
 */
export class TokenSession extends Context.Tag("@ddn/auth/TokenSession")<TokenSession, Service>() {}

/**
 * What a session can do.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /**
   * A valid access token: the current one while it is outside the refresh margin, else a refreshed
   * one. If refreshing fails with DDN unavailable or rate-limited, the current token is still returned
   * while it has not expired, and no new refresh is tried for `retryBaseDelay` (or the `Retry-After`).
   */
  readonly accessToken: Effect.Effect<Redacted.Redacted<string>, SessionError>
  /**
   * Refreshes now and returns the new access token; a grant that arrives while the call waits (the
   * refresh in flight, or a session adopted from the store) serves as well.
   */
  readonly refresh: Effect.Effect<Redacted.Redacted<string>, SessionError>
  /**
   * Reports that the API refused `accessToken`, and returns a replacement. Refreshes only if it is still
   * the current token, so any number of concurrent 401s for one token cause one refresh.
   */
  readonly invalidate: (
    accessToken: Redacted.Redacted<string>
  ) => Effect.Effect<Redacted.Redacted<string>, SessionError>
  /** The session's events from the moment the stream starts running. */
  readonly changes: Stream.Stream<SessionEvent>
  /**
   * The session's events from the moment this returns, queued until taken, for the life of the scope:
   * unlike running `changes` in a fiber, nothing that happens after it can be missed.
   */
  readonly subscribe: Effect.Effect<Queue.Dequeue<SessionEvent>, never, Scope.Scope>
}

/**
 * How eagerly to refresh and how to retry in the background.
 *
 * @since 0.1.0
 * @category models
 */
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

/**
 * The defaults of `Options`.
 *
 * @since 0.1.0
 * @category config
 */
export const defaults = {
  refreshMargin: Duration.seconds(60),
  backgroundRefresh: false,
  retryBaseDelay: Duration.seconds(1),
  retryMaxDelay: Duration.minutes(5)
} as const

/** Adoptions of a newer stored session within one refresh, before giving up on a store that keeps changing. */
const maxAdoptions = 3

/** The session's state, in a `SubscriptionRef` whose changes are the source of `changes`. */
interface State {
  /** The session as last saved to, or read from, the store. */
  readonly session: Option.Option<StoredSession>
  /** A grant DDN issued whose save failed: its refresh token is the only live one. */
  readonly pending: Option.Option<TokenGrant>
  /** Set when DDN refused the refresh token and the store held nothing newer. */
  readonly revoked: Option.Option<Rejection>
  /** After a failed refresh, `accessToken` gets the unexpired current token until this time (epoch ms). */
  readonly retryNotBefore: number
  /** Whether `Expired` was published for the current grant. */
  readonly expiryAnnounced: boolean
  /** What the change that led to this state reported, if anything. */
  readonly event: Option.Option<SessionEvent>
}

/** What a caller takes without (more) I/O, given the state and the time: a token, or none. */
type Accept = (state: State, now: number) => Option.Option<Redacted.Redacted<string>>

const sameToken = (a: Redacted.Redacted<string>, b: Redacted.Redacted<string>) =>
  Redacted.value(a) === Redacted.value(b)

const isRejection = (error: RefreshError): error is Rejection =>
  error._tag === "RefreshTokenExpired" || error._tag === "RefreshTokenInvalid"

const makeSession = (options: Options) =>
  Effect.gen(function* () {
    const client = yield* DdnAuthClient
    const store = yield* TokenStore
    const scope = yield* Effect.scope
    const marginMillis = Duration.toMillis(Duration.decode(options.refreshMargin ?? defaults.refreshMargin))
    const retryBaseDelay = Duration.decode(options.retryBaseDelay ?? defaults.retryBaseDelay)
    const retryMaxDelay = Duration.decode(options.retryMaxDelay ?? defaults.retryMaxDelay)

    const state = yield* SubscriptionRef.make<State>({
      session: yield* store.load,
      pending: Option.none(),
      revoked: Option.none(),
      retryNotBefore: 0,
      expiryAnnounced: false,
      event: Option.none()
    })
    /** One synchronisation with the store and DDN at a time. */
    const lock = yield* Effect.makeSemaphore(1)

    const update = (changes: Partial<Omit<State, "event">>, event?: SessionEvent) =>
      SubscriptionRef.update(state, (current) => ({ ...current, ...changes, event: Option.fromNullable(event) }))
    const publish = (event: SessionEvent) => update({}, event)

    const remainingMillis = (grant: TokenGrant, now: number) => DateTime.toEpochMillis(grant.expiresAt) - now
    const marginOf = (grant: TokenGrant) => Math.min(marginMillis, (grant.expiresIn * 1000) / 2)
    const isFresh = (grant: TokenGrant, now: number) => remainingMillis(grant, now) > marginOf(grant)
    const isUnexpired = (grant: TokenGrant, now: number) => remainingMillis(grant, now) > 0

    /** The current grant when nothing (a pending save, a revocation) stands before it. */
    const currentGrant = (current: State): Option.Option<TokenGrant> =>
      Option.isSome(current.pending) || Option.isSome(current.revoked)
        ? Option.none()
        : Option.filter(current.session, isGrant)
    const acceptWhen =
      (holds: (grant: TokenGrant, current: State, now: number) => boolean): Accept =>
      (current, now) =>
        Option.map(
          Option.filter(currentGrant(current), (grant) => holds(grant, current, now)),
          (grant) => grant.accessToken
        )

    /** `accessToken`: a fresh token, or while refreshing fails, one that has not expired. */
    const usable = acceptWhen(
      (grant, current, now) => isFresh(grant, now) || (isUnexpired(grant, now) && now < current.retryNotBefore)
    )
    /** The background refresher: a fresh token only. */
    const fresh = acceptWhen((grant, _, now) => isFresh(grant, now))
    /** `invalidate`: any unexpired token but `stale`. */
    const replacing = (stale: Redacted.Redacted<string>) =>
      acceptWhen((grant, _, now) => !sameToken(grant.accessToken, stale) && isUnexpired(grant, now))
    /** `refresh`: a usable token of a session other than the one held when the call was made. */
    const rotatedFrom =
      (held: Option.Option<StoredSession>): Accept =>
      (current, now) =>
        current.session === held ? Option.none() : usable(current, now)

    const acceptedNow = (accept: Accept) => Effect.zipWith(SubscriptionRef.get(state), Clock.currentTimeMillis, accept)

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
          update(
            { session: Option.some(grant), pending: Option.none(), retryNotBefore: 0, expiryAnnounced: false },
            SessionEvent.Refreshed({ expiresAt: grant.expiresAt, source: "Upstream" })
          )
        )
      )

    /** The store's session if it differs from `refused`: another holder of the store rotated. */
    const newerInStore = (refused: StoredSession) =>
      Effect.map(
        store.load,
        Option.filter((stored) => !sameToken(stored.refreshToken, refused.refreshToken))
      )

    const adopt = (stored: StoredSession) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const changes = { session: Option.some(stored), revoked: Option.none(), retryNotBefore: 0 }
        yield* isGrant(stored) && isUnexpired(stored, now)
          ? update(
              { ...changes, expiryAnnounced: false },
              SessionEvent.Refreshed({ expiresAt: stored.expiresAt, source: "Store" })
            )
          : update({ ...changes, expiryAnnounced: false })
        yield* Effect.logInfo("Adopted the DDN session another holder of the token store rotated")
      })

    const announceExpiry = Effect.gen(function* () {
      const current = yield* SubscriptionRef.get(state)
      const grant = Option.filter(current.session, isGrant)
      if (Option.isNone(grant) || current.expiryAnnounced) return
      if (isUnexpired(grant.value, yield* Clock.currentTimeMillis)) return
      yield* update({ expiryAnnounced: true }, SessionEvent.Expired({ expiredAt: grant.value.expiresAt }))
    })

    /** Refreshes `session` at DDN and saves the rotation; on a refusal, adopts a newer stored session. */
    const refreshFrom = (
      session: StoredSession,
      accept: Accept,
      adoptionsLeft: number
    ): Effect.Effect<Redacted.Redacted<string>, SessionError> =>
      Effect.gen(function* () {
        const outcome = yield* Effect.either(client.refresh(session.refreshToken))
        if (Either.isRight(outcome)) {
          const grant = outcome.right
          yield* update({ pending: Option.some(grant) })
          yield* persist(grant)
          return grant.accessToken
        }
        const error = outcome.left
        if (isRejection(error)) {
          const newer = yield* newerInStore(session).pipe(
            Effect.tapError(() => publish(SessionEvent.RefreshFailed({ error })))
          )
          if (Option.isNone(newer)) {
            yield* update({ revoked: Option.some(error) }, SessionEvent.Revoked({ error }))
            return yield* error
          }
          yield* adopt(newer.value)
          const token = yield* acceptedNow(accept)
          if (Option.isSome(token)) return token.value
          if (adoptionsLeft > 0) return yield* refreshFrom(newer.value, accept, adoptionsLeft - 1)
          yield* publish(SessionEvent.RefreshFailed({ error }))
          return yield* error
        }
        const now = yield* Clock.currentTimeMillis
        const wait = error._tag === "RateLimited" ? error.retryAfter : retryBaseDelay
        yield* update({ retryNotBefore: now + Duration.toMillis(wait) }, SessionEvent.RefreshFailed({ error }))
        yield* announceExpiry
        const fallback = yield* acceptedNow(accept)
        if (Option.isNone(fallback)) return yield* error
        yield* Effect.logWarning("Refreshing the DDN session failed; using the current access token until it expires")
        return fallback.value
      })

    /**
     * Brings the session to a state `accept` takes, in order: saves a pending grant, reads the store
     * after a revocation or when it held nothing, and refreshes.
     */
    const synchronise = (accept: Accept): Effect.Effect<Redacted.Redacted<string>, SessionError> =>
      Effect.gen(function* () {
        const { pending, revoked } = yield* SubscriptionRef.get(state)
        if (Option.isSome(pending)) {
          yield* persist(pending.value)
          const token = yield* acceptedNow(accept)
          if (Option.isSome(token)) return token.value
        }
        if (Option.isSome(revoked)) {
          const { session } = yield* SubscriptionRef.get(state)
          const newer = Option.isSome(session) ? yield* newerInStore(session.value) : yield* store.load
          if (Option.isNone(newer)) return yield* revoked.value
          yield* adopt(newer.value)
          const token = yield* acceptedNow(accept)
          if (Option.isSome(token)) return token.value
        }
        const { session } = yield* SubscriptionRef.get(state)
        if (Option.isSome(session)) return yield* refreshFrom(session.value, accept, maxAdoptions)
        const loaded = yield* store.load
        if (Option.isNone(loaded)) return yield* new NoSession()
        yield* update({ session: loaded })
        const token = yield* acceptedNow(accept)
        return Option.isSome(token) ? token.value : yield* refreshFrom(loaded.value, accept, maxAdoptions)
      })

    /**
     * A token `accept` takes: read without a lock, else read again under the lock and synchronise. The
     * locked part runs in a fiber of the session's scope that callers join, so interrupting a caller
     * ends only its wait, never a refresh or a save.
     */
    const obtain = (accept: Accept): Effect.Effect<Redacted.Redacted<string>, SessionError> =>
      Effect.flatMap(acceptedNow(accept), (token) =>
        Option.isSome(token)
          ? Effect.succeed(token.value)
          : Effect.flatMap(
              Effect.forkIn(
                lock.withPermits(1)(
                  Effect.flatMap(acceptedNow(accept), (token) =>
                    Option.isSome(token) ? Effect.succeed(token.value) : synchronise(accept)
                  )
                ),
                scope
              ),
              Fiber.join
            )
      )

    const subscribe = Effect.gen(function* () {
      const pull = yield* Stream.toPull(state.changes)
      // The first pull answers at once with the current state: from here on nothing can be missed.
      yield* Effect.ignore(pull)
      const queue = yield* Queue.unbounded<SessionEvent>()
      yield* pull.pipe(
        Effect.flatMap((states) =>
          Queue.offerAll(
            queue,
            Chunk.filterMap(states, (state) => state.event)
          )
        ),
        Effect.forever,
        Effect.ignore,
        Effect.forkScoped
      )
      return queue
    })

    const service = TokenSession.of({
      accessToken: obtain(usable).pipe(Effect.withSpan("TokenSession.accessToken")),
      refresh: Effect.flatMap(SubscriptionRef.get(state), ({ session }) => obtain(rotatedFrom(session))).pipe(
        Effect.withSpan("TokenSession.refresh")
      ),
      invalidate: Effect.fn("TokenSession.invalidate")((accessToken: Redacted.Redacted<string>) =>
        obtain(replacing(accessToken))
      ),
      changes: state.changes.pipe(
        Stream.drop(1),
        Stream.filterMap((state) => state.event)
      ),
      subscribe
    })

    /** Time until the margin of the current grant is reached; zero when there is nothing fresh to wait on. */
    const dueIn = Effect.zipWith(SubscriptionRef.get(state), Clock.currentTimeMillis, (current, now) =>
      Option.match(currentGrant(current), {
        onNone: () => Duration.zero,
        onSome: (grant) => Duration.millis(Math.max(0, remainingMillis(grant, now) - marginOf(grant)))
      })
    )

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
 * front. Its refreshes, and with `backgroundRefresh: true` the refresher, run in the `Scope`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<Service, TokenStoreError, DdnAuthClient | TokenStore | Scope.Scope> =>
  Effect.flatMap(makeSession(options), ({ service, keepFresh }) =>
    options.backgroundRefresh === true ? Effect.as(Effect.forkScoped(keepFresh), service) : Effect.succeed(service)
  )

/**
 * The session as a layer; a background refresher, when asked for, lives as long as the layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<TokenSession, TokenStoreError, DdnAuthClient | TokenStore> =>
  Layer.scoped(TokenSession, make(options))

/**
 * The session as a layer, from a `Config` of `Options`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config<Options>
): Layer.Layer<TokenSession, TokenStoreError | ConfigError.ConfigError, DdnAuthClient | TokenStore> =>
  Layer.scoped(TokenSession, Effect.flatMap(options, make))
