/** @internal */
import { randomBytes } from "node:crypto"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import { defaults as clientDefaults, DdnAuthClient } from "../DdnAuthClient.js"
import {
  type Coordinated,
  defaults as memoryDefaults,
  RefreshCoordinator,
  type Service
} from "../RefreshCoordinator.js"
import { RefreshError, UpstreamUnavailable } from "../RefreshError.js"
import * as RefreshMetrics from "../RefreshMetrics.js"
import type { RedisUnavailable } from "../redis/RedisConnection.js"
import type { RedisOptions } from "../redis/RefreshCoordinator.js"
import type { TokenGrant } from "../TokenGrant.js"
import * as Cipher from "./coordinationCipher.js"
import type { CoordinationStore } from "./coordinationStore.js"
import * as Coordinator from "./coordinator.js"
import { keep, restore } from "./keptGrant.js"

/**
 * The protocol of the Redis coordinator over a `CoordinationStore`; the public module
 * (`redis/RefreshCoordinator.ts`) documents what it guarantees, its options and its layers.
 */

/** The defaults of `RedisOptions`. */
export const defaults = {
  ...memoryDefaults,
  deadline: clientDefaults.deadline,
  lease: Duration.seconds(3),
  pollInterval: Duration.millis(250),
  keyPrefix: "ddn:coord:v1:",
  failoverGrace: Duration.seconds(5)
} as const

const KeptGrantSchema = Schema.Struct({
  accessToken: Schema.NonEmptyString,
  refreshToken: Schema.NonEmptyString,
  expiresIn: Schema.NonNegativeInt,
  tokenType: Schema.NonEmptyString,
  expiresAtMillis: Schema.Number
})

/** What a holder leaves in Redis (sealed): its id, until when others may reuse it, and the result. */
const Outcome = Schema.parseJson(
  Schema.Struct({
    holder: Schema.String,
    reusableUntil: Schema.Number,
    result: Schema.Union(
      Schema.TaggedStruct("Granted", { grant: KeptGrantSchema }),
      Schema.TaggedStruct("Failed", { error: RefreshError })
    )
  })
)
type Outcome = typeof Outcome.Type
const encodeOutcome = Schema.encodeSync(Outcome)
const decodeOutcome = Schema.decodeUnknownEither(Outcome)

const resultOf = (outcome: Outcome): Effect.Effect<TokenGrant, RefreshError> =>
  outcome.result._tag === "Granted" ? Effect.succeed(restore(outcome.result.grant)) : Effect.fail(outcome.result.error)

/** How a kept outcome may answer a claim, and what it is then called. */
interface Acceptance {
  readonly accepts: (outcome: Outcome, now: number) => boolean
  readonly source: "reused" | "coalesced"
  /** Whether taking the lease takes over from a holder whose lease lapsed. */
  readonly takeover: boolean
}

/** Most recent grants kept sealed in memory, to be written back to Redis after an outage. */
const maxRecentOutcomes = 10_000

/**
 * The coordinator over `store`: over Redis for `RefreshCoordinator.makeRedis`, over an in-memory
 * double on a `TestClock` in the unit tests.
 */
export const make = (
  options: RedisOptions,
  store: CoordinationStore
): Effect.Effect<Service, never, DdnAuthClient | Scope.Scope> =>
  Effect.gen(function* () {
    const client = yield* DdnAuthClient
    const millis = (input: Duration.DurationInput) => Duration.toMillis(Duration.decode(input))
    const window = millis(options.reuseWindow ?? defaults.reuseWindow)
    const deadlineMillis = millis(options.deadline ?? defaults.deadline)
    const leaseMillis = millis(options.lease ?? defaults.lease)
    const pollMillis = millis(options.pollInterval ?? defaults.pollInterval)
    const graceMillis = millis(options.failoverGrace ?? defaults.failoverGrace)
    const cipher = Cipher.make(Buffer.from(Redacted.value(options.secret)))
    // Kept long enough for every waiter that started before it was written to read it.
    const outcomeTtl = Math.max(window, deadlineMillis)

    /** The leases this instance holds, renewed together every third of the lease. */
    const held = new Map<string, string>()
    yield* Effect.suspend(() => (held.size === 0 ? Effect.void : store.renew([...held], leaseMillis))).pipe(
      Effect.ignore,
      Effect.repeat(Schedule.spaced(Duration.millis(Math.max(1, Math.floor(leaseMillis / 3))))),
      Effect.forkScoped
    )

    /**
     * The grants this instance obtained within the last outcome TTL, sealed, by key (the newest
     * 10,000). After an outage they are written back wherever Redis has nothing newer, with the
     * leases of the calls still running here: a write made while Redis was away did not land, and a
     * Redis restarted without persistence lost the rest.
     */
    const recent = new Map<string, { readonly sealed: string; readonly until: number }>()
    const remember = (key: string, sealed: string, until: number, now: number) => {
      recent.delete(key)
      // Oldest first: what has expired, then what is over the bound.
      for (const [oldest, entry] of recent) {
        if (entry.until > now && recent.size < maxRecentOutcomes) break
        recent.delete(oldest)
      }
      recent.set(key, { sealed, until })
    }
    const writeBack = Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const entries: Array<readonly [string, string, number]> = []
      for (const [key, entry] of recent) {
        if (entry.until > now) entries.push([key, entry.sealed, entry.until - now])
        else recent.delete(key)
      }
      return Effect.ignore(store.restore(entries, [...held], leaseMillis))
    })

    /**
     * Redis as the protocol sees it: since when it has not answered (from start-up until it first
     * does), and when it last came back after an outage. For one renewal interval after that, new
     * work waits, so that every instance has reconnected and written back what it did meanwhile.
     */
    const healthyAtStart = yield* SubscriptionRef.get(store.healthy)
    const outage: {
      since: number | undefined
      recoveredAt: number | undefined
      everUp: boolean
      warnedOfLostWrites: boolean
    } = {
      since: healthyAtStart ? undefined : yield* Clock.currentTimeMillis,
      recoveredAt: undefined,
      everUp: healthyAtStart,
      warnedOfLostWrites: false
    }
    const settleMillis = Math.max(1, Math.floor(leaseMillis / 3))
    yield* store.healthy.changes.pipe(
      Stream.changes,
      Stream.runForEach((ok) =>
        Effect.zipRight(
          Metric.set(RefreshMetrics.coordinationDegraded, ok ? 0 : 1),
          Effect.flatMap(Clock.currentTimeMillis, (now) => {
            if (!ok) {
              outage.since ??= now
              return Effect.void
            }
            const backFromOutage = outage.since !== undefined && outage.everUp
            outage.since = undefined
            outage.everUp = true
            outage.warnedOfLostWrites = false
            if (!backFromOutage) return Effect.void
            outage.recoveredAt = now
            return writeBack
          })
        )
      ),
      Effect.forkScoped
    )

    /** What is left at `now` of the settling time after an outage. */
    const settlingLeft = (now: number) =>
      outage.recoveredAt === undefined ? 0 : outage.recoveredAt + settleMillis - now
    const settling = (now: number) => settlingLeft(now) > 0
    /** Sleeps out what is left of the settling time after an outage. */
    const settled = Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const left = settlingLeft(now)
      return left > 0 ? Effect.sleep(Duration.millis(left)) : Effect.void
    })

    /**
     * `effect` bounded by what is left of the deadline counted from `startedAt`. Only the paths that
     * can wait are bounded so: a timeout is a fiber and a timer, which the common path (claim, call,
     * settle: each bounded by the command timeout or the client's own deadline) does without.
     */
    const within =
      (startedAt: number) =>
      <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E | UpstreamUnavailable> =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Effect.timeoutFail(effect, {
            duration: Duration.millis(Math.max(0, startedAt + deadlineMillis - now)),
            onTimeout: () => new UpstreamUnavailable({ reason: "Deadline", attempts: 0 })
          })
        )

    /** Waits up to `withinMillis` for Redis to answer again (and settle); whether it does. */
    const recovered = (withinMillis: number): Effect.Effect<boolean> =>
      withinMillis <= 0
        ? Effect.succeed(false)
        : store.healthy.changes.pipe(
            Stream.filter((ok) => ok),
            Stream.take(1),
            Stream.runDrain,
            Effect.timeoutTo({
              duration: Duration.millis(withinMillis),
              onSuccess: () => true,
              onTimeout: () => false
            }),
            Effect.tap((back) => (back ? settled : Effect.void))
          )

    /** Whether Redis came back within the failover grace, counted from when it stopped answering. */
    const recoveredWithinGrace = Effect.flatMap(Clock.currentTimeMillis, (now) =>
      recovered((outage.since ?? now) + graceMillis - now)
    )

    const unseal = (token: string, key: string, sealed: string): Outcome | undefined => {
      const text = cipher.open(token, key, sealed)
      if (text === undefined) return undefined
      return Either.getOrUndefined(decodeOutcome(text))
    }
    const seal = (token: Redacted.Redacted<string>, key: string, outcome: Outcome) =>
      cipher.seal(Redacted.value(token), key, encodeOutcome(outcome))
    const reusable = (outcome: Outcome, now: number) => outcome.result._tag === "Granted" && now < outcome.reusableUntil
    const reusableUntil = (now: number) => (window > 0 ? now + window : 0)
    const newHolder = () => randomBytes(12).toString("base64url")

    /** This process without Redis: the call, kept in the local window and for Redis once it is back. */
    const local = (
      key: string,
      token: Redacted.Redacted<string>,
      keepLocally: (grant: TokenGrant) => Effect.Effect<void>
    ): Effect.Effect<Coordinated, RefreshError> =>
      client.refresh(token).pipe(
        Effect.tap((grant) =>
          Effect.zipRight(
            keepLocally(grant),
            Effect.map(Clock.currentTimeMillis, (now) => {
              const outcome: Outcome = {
                holder: newHolder(),
                reusableUntil: reusableUntil(now),
                result: { _tag: "Granted", grant: keep(grant) }
              }
              remember(key, seal(token, key, outcome), now + outcomeTtl, now)
            })
          )
        ),
        Effect.map((grant): Coordinated => ({ grant, source: "upstream" }))
      )

    /** The holder's part: the call, then the outcome in Redis (and the lease released) before anyone resumes. */
    const hold = (
      key: string,
      token: Redacted.Redacted<string>,
      holder: string,
      keepLocally: (grant: TokenGrant) => Effect.Effect<void>
    ): Effect.Effect<Coordinated, RefreshError> =>
      Effect.suspend(() => {
        held.set(key, holder)
        return client.refresh(token)
      }).pipe(
        Effect.exit,
        Effect.flatMap((exit) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) => {
            // A typed failure is shared like a grant; a defect or an interruption only releases the lease.
            const result: Outcome["result"] | undefined = Exit.isSuccess(exit)
              ? { _tag: "Granted", grant: keep(exit.value) }
              : Option.match(Cause.failureOption(exit.cause), {
                  onNone: () => undefined,
                  onSome: (error) => ({ _tag: "Failed", error })
                })
            const sealed =
              result === undefined ? undefined : seal(token, key, { holder, reusableUntil: reusableUntil(now), result })
            if (sealed !== undefined && Exit.isSuccess(exit)) remember(key, sealed, now + outcomeTtl, now)
            const share =
              sealed === undefined
                ? Effect.ignore(store.release(key, holder))
                : store.settle(key, holder, sealed, outcomeTtl).pipe(
                    Effect.catchAll(() => {
                      // One line per outage, not one per refresh.
                      if (outage.warnedOfLostWrites) return Effect.void
                      outage.warnedOfLostWrites = true
                      return Effect.logWarning(
                        "could not write refresh outcomes to Redis; the grants are written back once Redis is back"
                      )
                    })
                  )
            return share.pipe(
              Effect.zipRight(Exit.isSuccess(exit) ? keepLocally(exit.value) : Effect.void),
              Effect.zipRight(Effect.map(exit, (grant): Coordinated => ({ grant, source: "upstream" })))
            )
          })
        ),
        Effect.onInterrupt(() => Effect.ignore(store.release(key, holder))),
        Effect.ensuring(Effect.sync(() => held.delete(key)))
      )

    /**
     * A waiter's part: wait for `awaited`'s outcome (woken by its notification, or every poll interval),
     * take the call over when the lease lapses without one, for at most the deadline. Redis going away
     * meanwhile does not make it call DDN (the holder may be calling right now): it waits for Redis.
     */
    const wait = (
      key: string,
      token: Redacted.Redacted<string>,
      awaited: string | undefined,
      startedAt: number,
      keepLocally: (grant: TokenGrant) => Effect.Effect<void>,
      patientUntil = 0
    ): Effect.Effect<Coordinated, RefreshError | RedisUnavailable> =>
      Effect.scoped(
        Effect.gen(function* () {
          // Listening before looking: an outcome settled in between still wakes us.
          const notified = yield* store.watch(key)
          const snapshot = yield* store.peek(key)
          const now = yield* Clock.currentTimeMillis
          if (snapshot.outcome !== undefined) {
            const outcome = unseal(Redacted.value(token), key, snapshot.outcome)
            if (outcome !== undefined && (outcome.holder === awaited || reusable(outcome, now))) {
              return { _tag: "Settled", outcome } as const
            }
          }
          // The lease lapsed with no outcome for us: its holder died or lost Redis. After an outage the
          // holder gets a whole lease to reconnect and take its lease again before anyone takes over.
          if (snapshot.holder === undefined && now >= patientUntil) return { _tag: "Lapsed" } as const
          const remaining = startedAt + deadlineMillis - now
          if (remaining <= 0) return yield* new UpstreamUnavailable({ reason: "Deadline", attempts: 0 })
          yield* Effect.raceFirst(notified, Effect.sleep(Duration.millis(Math.min(pollMillis, remaining))))
          return { _tag: "Waiting", holder: snapshot.holder ?? awaited, patientUntil } as const
        })
      ).pipe(
        Effect.catchTag("RedisUnavailable", () =>
          Effect.flatMap(Clock.currentTimeMillis, (now) =>
            Effect.flatMap(recovered(startedAt + deadlineMillis - now), (back) =>
              back
                ? Effect.map(Clock.currentTimeMillis, (now) => ({
                    _tag: "Waiting" as const,
                    holder: awaited,
                    patientUntil: (outage.recoveredAt ?? now) + leaseMillis
                  }))
                : Effect.fail(new UpstreamUnavailable({ reason: "Deadline", attempts: 0 }))
            )
          )
        ),
        Effect.flatMap((state) =>
          state._tag === "Settled"
            ? resultOf(state.outcome).pipe(
                Effect.tap(keepLocally),
                Effect.map((grant): Coordinated => ({ grant, source: "coalesced" }))
              )
            : state._tag === "Lapsed"
              ? // Taking over: an outcome of the awaited holder written meanwhile still answers.
                claim(key, token, startedAt, keepLocally, {
                  accepts: (outcome, now) => outcome.holder === awaited || reusable(outcome, now),
                  source: "coalesced",
                  takeover: true
                })
              : wait(key, token, state.holder, startedAt, keepLocally, state.patientUntil)
        )
      )

    /** A new submission accepts only a grant within its reuse window; failures are never kept for it. */
    const asNewSubmission: Acceptance = { accepts: reusable, source: "reused", takeover: false }

    /**
     * Claims `key`: a kept outcome that `acceptance` accepts answers; one it turns down is `seen` and
     * not offered again, so an outcome written meanwhile still is; otherwise the lease is taken and the
     * call made, or whoever holds the lease is waited for.
     */
    const claim = (
      key: string,
      token: Redacted.Redacted<string>,
      startedAt: number,
      keepLocally: (grant: TokenGrant) => Effect.Effect<void>,
      acceptance: Acceptance,
      seen?: string
    ): Effect.Effect<Coordinated, RefreshError | RedisUnavailable> => {
      const holder = newHolder()
      return Effect.flatMap(store.claim(key, holder, leaseMillis, seen, deadlineMillis), (claimed) => {
        switch (claimed._tag) {
          case "Acquired":
            return acceptance.takeover
              ? Effect.zipRight(
                  Metric.increment(RefreshMetrics.coordinationTakeovers),
                  hold(key, token, holder, keepLocally)
                )
              : hold(key, token, holder, keepLocally)
          case "Held":
            // A takeover's claim runs within the wait that led to it, which is bounded already.
            return acceptance.takeover
              ? wait(key, token, claimed.holder, startedAt, keepLocally)
              : within(startedAt)(wait(key, token, claimed.holder, startedAt, keepLocally))
          case "Kept":
            return Effect.flatMap(Clock.currentTimeMillis, (now) => {
              const outcome = unseal(Redacted.value(token), key, claimed.outcome)
              if (outcome === undefined || !acceptance.accepts(outcome, now)) {
                return claim(key, token, startedAt, keepLocally, acceptance, claimed.outcome)
              }
              const answer = resultOf(outcome).pipe(
                Effect.tap(keepLocally),
                Effect.map((grant): Coordinated => ({ grant, source: acceptance.source }))
              )
              return acceptance.source === "reused"
                ? Effect.zipRight(Metric.increment(RefreshMetrics.reused), answer)
                : answer
            })
        }
      })
    }

    /** The whole protocol for a token this process cannot answer itself. */
    const shared = (
      key: string,
      token: Redacted.Redacted<string>,
      startedAt: number,
      keepLocally: (grant: TokenGrant) => Effect.Effect<void>
    ): Effect.Effect<Coordinated, RefreshError | RedisUnavailable> =>
      claim(key, token, startedAt, keepLocally, asNewSubmission)

    /**
     * Through Redis; when Redis fails, once more if it is back within the failover grace, else
     * within this process (counted as a fallback).
     */
    const coordinated = (
      key: string,
      token: Redacted.Redacted<string>,
      startedAt: number,
      keepLocally: (grant: TokenGrant) => Effect.Effect<void>,
      retried = false
    ): Effect.Effect<Coordinated, RefreshError> =>
      shared(key, token, startedAt, keepLocally).pipe(
        Effect.catchTag("RedisUnavailable", () =>
          within(startedAt)(
            Effect.flatMap(retried ? Effect.succeed(false) : recoveredWithinGrace, (back) =>
              back
                ? coordinated(key, token, startedAt, keepLocally, true)
                : Effect.zipRight(
                    Metric.increment(RefreshMetrics.coordinationFallbacks),
                    local(key, token, keepLocally)
                  )
            )
          )
        )
      )

    const service = yield* Coordinator.make({
      reuseWindowMillis: window,
      maxEntries: options.maxEntries ?? defaults.maxEntries,
      keyOf: cipher.keyOf,
      // Bounded by the deadline wherever it can wait (see `within`); the holder's own path is
      // bounded by the client's deadline, plus at most a command timeout before and after the call.
      refresh: (key, token, keepLocally) =>
        Effect.flatMap(Clock.currentTimeMillis, (startedAt) =>
          Effect.flatMap(SubscriptionRef.get(store.healthy), (healthy) =>
            !healthy
              ? within(startedAt)(
                  Effect.flatMap(recoveredWithinGrace, (back) =>
                    back ? coordinated(key, token, startedAt, keepLocally) : local(key, token, keepLocally)
                  )
                )
              : settling(startedAt)
                ? within(startedAt)(Effect.zipRight(settled, coordinated(key, token, startedAt, keepLocally)))
                : coordinated(key, token, startedAt, keepLocally)
          )
        ),
      coordination: Effect.map(SubscriptionRef.get(store.healthy), (ok) => (ok ? "redis" : "degraded"))
    })
    return RefreshCoordinator.of(service)
  })
