import { createDecipheriv, createHmac, hkdfSync } from "node:crypto"
import { describe, expect, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as Cipher from "../../src/internal/coordinationCipher.js"
import { keep } from "../../src/internal/keptGrant.js"
import * as SharedCoordinator from "../../src/internal/sharedCoordinator.js"
import * as RefreshMetrics from "../../src/RefreshMetrics.js"
import * as RefreshCoordinator from "../../src/redis/RefreshCoordinator.js"
import type * as TokenGrant from "../../src/TokenGrant.js"
import { failureTag } from "../utils/exits.js"
import { makeFakeDdn } from "../utils/FakeDdn.js"
import * as MemoryCoordinationStore from "../utils/MemoryCoordinationStore.js"

/** The Redis coordinator's protocol on a `TestClock`, over the store's semantics in memory. */
const secret = "a-coordination-secret-of-32-chars!!"
// A 2 s failover grace, shorter than the default, keeps the TestClock arithmetic below small.
const options: RefreshCoordinator.RedisOptions = { secret: Redacted.make(secret), failoverGrace: "2 seconds" }
const cipher = Cipher.make(Buffer.from(secret))

/** A coordinator over a fake DDN and the store in memory, and a session minted for the test (`token` in clear). */
const setup = (overrides: Partial<RefreshCoordinator.RedisOptions> = {}) =>
  Effect.gen(function* () {
    const ddn = makeFakeDdn()
    const memory = yield* MemoryCoordinationStore.make
    const settings = { ...options, ...overrides }
    const coordinator = yield* SharedCoordinator.make(settings, memory.store).pipe(Effect.provide(ddn.layer))
    const session = ddn.mint()
    /** A second instance sharing the store, with the same settings. */
    const another = SharedCoordinator.make(settings, memory.store).pipe(Effect.provide(ddn.layer))
    return { ddn, memory, coordinator, another, session, token: Redacted.value(session.refreshToken) }
  })

/** A fresh session whose token another instance holds the lease of, until `until`; and a caller waiting on it. */
const waitingOnAnother = (context: Effect.Effect.Success<ReturnType<typeof setup>>, until: number) =>
  Effect.gen(function* () {
    const session = context.ddn.mint()
    const token = Redacted.value(session.refreshToken)
    const key = cipher.keyOf(token)
    context.memory.leases.set(key, { holder: "other-instance", until })
    const fiber = yield* Effect.fork(context.coordinator.coordinate(session.refreshToken))
    return { session, token, key, fiber }
  })

/** What another instance would leave under `token`'s key: its outcome, sealed. */
const sealedBy = (token: string, holder: string, result: unknown, reusableUntil = 0) =>
  cipher.seal(token, cipher.keyOf(token), JSON.stringify({ holder, reusableUntil, result }))

type Memory = Effect.Effect.Success<typeof MemoryCoordinationStore.make>

/** An outcome `holder` left in the store under `token`'s key, kept until 10 s. */
const leaveOutcome = (memory: Memory, token: string, holder: string, result: unknown, reusableUntil = 0) =>
  memory.outcomes.set(cipher.keyOf(token), { value: sealedBy(token, holder, result, reusableUntil), until: 10_000 })

/** The lease holder `other-instance` settling `token`'s refresh with `result`, kept until 10 s. */
const settledByOther = (memory: Memory, token: string, result: unknown) =>
  memory.store.settle(cipher.keyOf(token), "other-instance", sealedBy(token, "other-instance", result), 10_000)

/** A grant as an instance seals it for the others. */
const granted = (grant: TokenGrant.TokenGrant) => ({ _tag: "Granted", grant: keep(grant) })

/** A failure as an instance seals it for the others: a transient one, after every attempt. */
const failedTransiently = { _tag: "Failed", error: { _tag: "UpstreamUnavailable", reason: "Timeout", attempts: 4 } }

describe("SharedCoordinator.make (the Redis protocol)", () => {
  it.scoped("a lease held elsewhere: the caller waits, then gets the holder's outcome when it is settled", () =>
    Effect.gen(function* () {
      const context = yield* setup()
      const { ddn, memory } = context
      const { fiber, session, token } = yield* waitingOnAnother(context, 3_000)
      yield* TestClock.adjust("1 second")
      expect(fiber.unsafePoll()).toBeNull()

      const grant = ddn.rotateElsewhere(session.refreshToken)
      yield* settledByOther(memory, token, granted(grant))
      const result = yield* Fiber.join(fiber)
      expect(result.source).toBe("coalesced")
      expect(Redacted.value(result.grant.refreshToken)).toBe(Redacted.value(grant.refreshToken))
      expect(ddn.calls()).toBe(0)
    })
  )

  it.scoped("a rejection settled by the holder is the waiter's answer too", () =>
    Effect.gen(function* () {
      const { coordinator, ddn, memory } = yield* setup()
      const token = "a-token-the-holder-saw-rejected"
      const key = cipher.keyOf(token)
      memory.leases.set(key, { holder: "other-instance", until: 3_000 })
      const fiber = yield* Effect.fork(Effect.exit(coordinator.coordinate(Redacted.make(token))))
      yield* TestClock.adjust("100 millis")
      yield* settledByOther(memory, token, { _tag: "Failed", error: { _tag: "RefreshTokenInvalid" } })
      expect(failureTag(yield* Fiber.join(fiber))).toBe("RefreshTokenInvalid")
      expect(ddn.calls()).toBe(0)
    })
  )

  it.scoped("a holder that dies: its lease lapses after 3 s and the waiter takes the call over", () =>
    Effect.gen(function* () {
      const { coordinator, ddn, memory, session } = yield* setup()
      memory.leases.set(cipher.keyOf(Redacted.value(session.refreshToken)), { holder: "dead-instance", until: 3_000 })
      const takeovers = (yield* Metric.value(RefreshMetrics.coordinationTakeovers)).count
      const fiber = yield* Effect.fork(coordinator.coordinate(session.refreshToken))
      yield* TestClock.adjust("2900 millis")
      expect(fiber.unsafePoll()).toBeNull()
      expect(ddn.calls()).toBe(0)
      yield* TestClock.adjust("350 millis")
      const result = yield* Fiber.join(fiber)
      expect(result.source).toBe("upstream")
      expect(ddn.calls()).toBe(1)
      expect((yield* Metric.value(RefreshMetrics.coordinationTakeovers)).count).toBe(takeovers + 1)
    })
  )

  it.scoped("a waiter that takes the call over is still answered by its deadline, counted from its start", () =>
    Effect.gen(function* () {
      const { coordinator, ddn, memory, session } = yield* setup({ deadline: "10 seconds" })
      memory.leases.set(cipher.keyOf(Redacted.value(session.refreshToken)), { holder: "dead-instance", until: 3_000 })
      // The taken-over call hangs (the fake client has no deadline of its own).
      yield* ddn.holdRefreshes()
      const fiber = yield* Effect.fork(Effect.exit(coordinator.coordinate(session.refreshToken)))
      yield* TestClock.adjust("9999 millis")
      expect(ddn.calls()).toBe(1)
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust("1 millis")
      expect(failureTag(yield* Fiber.join(fiber))).toBe("UpstreamUnavailable")
      expect(ddn.running()).toBe(0)
    })
  )

  it.scoped(
    "a holder that keeps its lease but never answers: the caller gets UpstreamUnavailable at the deadline",
    () =>
      Effect.gen(function* () {
        const { coordinator, memory } = yield* setup({ deadline: "10 seconds" })
        const token = "a-token-whose-holder-hangs"
        memory.leases.set(cipher.keyOf(token), { holder: "stuck-instance", until: Number.MAX_SAFE_INTEGER })
        const fiber = yield* Effect.fork(Effect.exit(coordinator.coordinate(Redacted.make(token))))
        yield* TestClock.adjust("9999 millis")
        expect(fiber.unsafePoll()).toBeNull()
        yield* TestClock.adjust("1 millis")
        expect(failureTag(yield* Fiber.join(fiber))).toBe("UpstreamUnavailable")
      })
  )

  it.scoped("the holder renews its lease while its call runs, and writes the outcome before anyone is answered", () =>
    Effect.gen(function* () {
      const { coordinator, ddn, memory, session } = yield* setup()
      const key = cipher.keyOf(Redacted.value(session.refreshToken))
      const gate = yield* ddn.holdRefreshes()
      const settling = yield* Deferred.make<void>()
      memory.state.settleGate = settling
      const fiber = yield* Effect.fork(coordinator.coordinate(session.refreshToken))
      yield* TestClock.adjust("8 seconds")
      expect(memory.leases.get(key)?.until).toBeGreaterThan(8_000)
      yield* Deferred.succeed(gate, undefined)
      yield* TestClock.adjust("1 millis")
      // The grant is in hand, but the caller waits until Redis has it.
      expect(fiber.unsafePoll()).toBeNull()
      yield* Deferred.succeed(settling, undefined)
      const result = yield* Fiber.join(fiber)
      expect(result.source).toBe("upstream")
      expect(memory.outcomes.has(key)).toBe(true)
      expect(memory.leases.has(key)).toBe(false)
    })
  )

  it.scoped("a new submission never gets another holder's failure: it calls DDN itself", () =>
    Effect.gen(function* () {
      const { coordinator, ddn, memory, session, token } = yield* setup()
      leaveOutcome(memory, token, "other-instance", failedTransiently)
      const result = yield* coordinator.coordinate(session.refreshToken)
      expect(result.source).toBe("upstream")
      expect(ddn.calls()).toBe(1)
    })
  )

  it.scoped(
    "an outcome written between two claims still answers: turning down a failure does not hide a newer grant",
    () =>
      Effect.gen(function* () {
        const { coordinator, ddn, memory, session, token } = yield* setup()
        leaveOutcome(memory, token, "first-instance", failedTransiently)
        // Right after this caller turned the failure down, another instance refreshes and settles.
        const grant = ddn.rotateElsewhere(session.refreshToken)
        memory.state.beforeClaim = (claims) => {
          if (claims !== 1) return
          leaveOutcome(memory, token, "second-instance", granted(grant), 10_000)
        }
        const result = yield* coordinator.coordinate(session.refreshToken)
        expect(result.source).toBe("reused")
        expect(Redacted.value(result.grant.refreshToken)).toBe(Redacted.value(grant.refreshToken))
        expect(ddn.calls()).toBe(0)
      })
  )

  it.scoped("a grant is reused from the store only within its window", () =>
    Effect.gen(function* () {
      const { coordinator, ddn, memory, session, token } = yield* setup({ reuseWindow: "10 seconds" })
      const grant = ddn.rotateElsewhere(session.refreshToken)
      leaveOutcome(memory, token, "other-instance", granted(grant), 5_000)
      yield* TestClock.adjust("4999 millis")
      const reused = yield* coordinator.coordinate(session.refreshToken)
      expect(reused.source).toBe("reused")
      expect(Redacted.value(reused.grant.accessToken)).toBe(Redacted.value(grant.accessToken))
      expect(ddn.calls()).toBe(0)

      const later = Redacted.value(ddn.mint().refreshToken)
      leaveOutcome(memory, later, "other-instance", granted(grant), 4_000)
      const called = yield* coordinator.coordinate(Redacted.make(later))
      expect(called.source).toBe("upstream")
      expect(ddn.calls()).toBe(1)
    })
  )

  it.scoped("a value that does not open (tampered, another token's, garbage) is ignored, not trusted", () =>
    Effect.gen(function* () {
      const { coordinator, ddn, memory, session: first, token } = yield* setup()
      const second = ddn.mint()
      const grant = ddn.rotateElsewhere(second.refreshToken)
      // Sealed for the second token, stored under the first one's key.
      const foreign = sealedBy(Redacted.value(second.refreshToken), "x", granted(grant), 9e15)
      memory.outcomes.set(cipher.keyOf(token), { value: foreign, until: 10_000 })
      expect((yield* coordinator.coordinate(first.refreshToken)).source).toBe("upstream")
      const third = ddn.mint()
      memory.outcomes.set(cipher.keyOf(Redacted.value(third.refreshToken)), { value: "v1.garbage", until: 10_000 })
      expect((yield* coordinator.coordinate(third.refreshToken)).source).toBe("upstream")
      expect(ddn.calls()).toBe(2)
    })
  )

  it.scoped(
    "Redis down past the failover grace: degraded, coordinated in memory without the store; back when it returns",
    () =>
      Effect.gen(function* () {
        const { coordinator, ddn, memory, session } = yield* setup()
        yield* memory.setDown(true)
        expect(yield* coordinator.coordination).toBe("degraded")
        const commands = memory.state.commands
        const fiber = yield* Effect.fork(
          Effect.all(
            Array.from({ length: 5 }, () => coordinator.coordinate(session.refreshToken)),
            { concurrency: "unbounded" }
          )
        )
        yield* TestClock.adjust("1999 millis")
        expect(fiber.unsafePoll()).toBeNull()
        yield* TestClock.adjust("1 millis")
        const results = yield* Fiber.join(fiber)
        expect(ddn.calls()).toBe(1)
        expect(results.map((result) => result.source).sort()).toEqual([
          "coalesced",
          "coalesced",
          "coalesced",
          "coalesced",
          "upstream"
        ])
        // Past the grace, nothing waits any more: this would hang on the TestClock otherwise.
        expect((yield* coordinator.coordinate(ddn.mint().refreshToken)).source).toBe("upstream")
        expect((yield* coordinator.coordinate(session.refreshToken)).source).toBe("reused")
        expect(memory.state.commands).toBe(commands)

        yield* memory.setDown(false)
        expect(yield* coordinator.coordination).toBe("redis")
        // Back from an outage, work waits one renewal interval (1 s) for every instance to write back.
        const after = yield* Effect.fork(coordinator.coordinate(ddn.mint().refreshToken))
        yield* TestClock.adjust("1 second")
        yield* Fiber.join(after)
        expect(memory.state.commands).toBeGreaterThan(commands)
      })
  )

  it.scoped("a Redis blip shorter than the failover grace: refreshes wait for it and go through Redis", () =>
    Effect.gen(function* () {
      const { coordinator, ddn, memory, session } = yield* setup()
      const fallbacks = (yield* Metric.value(RefreshMetrics.coordinationFallbacks)).count
      yield* memory.setDown(true)
      const fiber = yield* Effect.fork(coordinator.coordinate(session.refreshToken))
      yield* TestClock.adjust("1 second")
      expect(ddn.calls()).toBe(0)
      yield* memory.setDown(false)
      yield* TestClock.adjust("1 second")
      const result = yield* Fiber.join(fiber)
      expect(result.source).toBe("upstream")
      expect(memory.outcomes.has(cipher.keyOf(Redacted.value(session.refreshToken)))).toBe(true)
      expect((yield* Metric.value(RefreshMetrics.coordinationFallbacks)).count).toBe(fallbacks)
    })
  )

  it.scoped("a waiter whose Redis goes away does not call DDN (the holder may be calling): it waits for Redis", () =>
    Effect.gen(function* () {
      const context = yield* setup()
      const { ddn, memory } = context
      const { fiber, session, token } = yield* waitingOnAnother(context, 60_000)
      yield* TestClock.adjust("100 millis")
      yield* memory.setDown(true)
      yield* TestClock.adjust("5 seconds")
      expect(ddn.calls()).toBe(0)
      expect(fiber.unsafePoll()).toBeNull()
      yield* memory.setDown(false)
      const grant = ddn.rotateElsewhere(session.refreshToken)
      yield* settledByOther(memory, token, granted(grant))
      // Back from an outage, work waits one renewal interval (1 s) for every instance to write back.
      yield* TestClock.adjust("1 second")
      const result = yield* Fiber.join(fiber)
      expect(result.source).toBe("coalesced")
      expect(ddn.calls()).toBe(0)
    })
  )

  it.scoped("after an outage that lost the lease, a waiter gives the holder a whole lease to take it again", () =>
    Effect.gen(function* () {
      const context = yield* setup()
      const { ddn, memory } = context
      const { fiber, key } = yield* waitingOnAnother(context, 60_000)
      yield* TestClock.adjust("100 millis")
      yield* memory.setDown(true)
      memory.leases.clear()
      yield* TestClock.adjust("1 second")
      yield* memory.setDown(false)
      // Settling (1 s), then 2 s more: still within the holder's lease, no takeover.
      yield* TestClock.adjust("2900 millis")
      expect(ddn.calls()).toBe(0)
      expect(fiber.unsafePoll()).toBeNull()
      // The holder never comes back: the waiter takes the call over once the lease has passed.
      yield* TestClock.adjust("400 millis")
      const result = yield* Fiber.join(fiber)
      expect(result.source).toBe("upstream")
      expect(ddn.calls()).toBe(1)
      expect(memory.leases.has(key)).toBe(false)
    })
  )

  it.scoped("grants made while Redis was away are written back once it is back: another instance reuses them", () =>
    Effect.gen(function* () {
      const { another, coordinator, ddn, memory, session } = yield* setup()
      const other = yield* another
      yield* memory.setDown(true)
      yield* TestClock.adjust("2 seconds")
      const first = yield* coordinator.coordinate(session.refreshToken)
      expect(memory.outcomes.size).toBe(0)
      yield* memory.setDown(false)
      const resubmitted = yield* Effect.fork(other.coordinate(session.refreshToken))
      yield* TestClock.adjust("1 second")
      const again = yield* Fiber.join(resubmitted)
      expect(again.source).toBe("reused")
      expect(Redacted.value(again.grant.refreshToken)).toBe(Redacted.value(first.grant.refreshToken))
      expect(ddn.calls()).toBe(1)
    })
  )

  it.scoped(
    "a Redis restart that loses every key: the calls running here take their leases again, so no one calls twice",
    () =>
      Effect.gen(function* () {
        const { another, coordinator, ddn, memory, session } = yield* setup()
        const other = yield* another
        const gate = yield* ddn.holdRefreshes()
        const holding = yield* Effect.fork(coordinator.coordinate(session.refreshToken))
        yield* TestClock.adjust("10 millis")
        // Redis restarts without persistence while the call runs.
        yield* memory.setDown(true)
        memory.leases.clear()
        memory.outcomes.clear()
        yield* TestClock.adjust("500 millis")
        yield* memory.setDown(false)
        yield* TestClock.adjust("1 millis")
        expect(memory.leases.size).toBe(1)
        const racing = yield* Effect.fork(other.coordinate(session.refreshToken))
        yield* TestClock.adjust("1 second")
        yield* Deferred.succeed(gate, undefined)
        yield* TestClock.adjust("300 millis")
        const first = yield* Fiber.join(holding)
        const second = yield* Fiber.join(racing)
        expect(ddn.calls()).toBe(1)
        expect(second.source).toBe("coalesced")
        expect(Redacted.value(second.grant.refreshToken)).toBe(Redacted.value(first.grant.refreshToken))
      })
  )

  it.scoped(
    "Redis failing mid-way for longer than the grace: the refresh falls back to this instance and is counted",
    () =>
      Effect.gen(function* () {
        const { coordinator, ddn, memory } = yield* setup()
        const fallbacks = (yield* Metric.value(RefreshMetrics.coordinationFallbacks)).count
        memory.state.down = true
        const fiber = yield* Effect.fork(coordinator.coordinate(ddn.mint().refreshToken))
        yield* TestClock.adjust("2 seconds")
        const result = yield* Fiber.join(fiber)
        expect(result.source).toBe("upstream")
        expect((yield* Metric.value(RefreshMetrics.coordinationFallbacks)).count).toBe(fallbacks + 1)
      })
  )
})

describe("RefreshCoordinator.redisSettingsConfig", () => {
  const load = (env: Record<string, string>) =>
    Effect.withConfigProvider(
      RefreshCoordinator.redisSettingsConfig,
      ConfigProvider.fromMap(new Map(Object.entries(env)))
    )

  it.effect("no REDIS_URL: coordinate in memory", () =>
    Effect.gen(function* () {
      expect(Option.isNone(yield* load({}))).toBe(true)
    })
  )

  it.effect("REDIS_URL requires DDN_COORDINATION_SECRET of at least 32 characters, and neither is echoed", () =>
    Effect.gen(function* () {
      const missing = yield* Effect.flip(load({ REDIS_URL: "redis://:hunter2@127.0.0.1:6379/1" }))
      expect(String(missing)).toContain("DDN_COORDINATION_SECRET")
      expect(String(missing)).not.toContain("hunter2")
      const short = yield* Effect.flip(
        load({ REDIS_URL: "redis://127.0.0.1", DDN_COORDINATION_SECRET: "too-short-secret" })
      )
      expect(String(short)).toContain("at least 32 characters")
      expect(String(short)).not.toContain("too-short-secret")
      const bad = yield* Effect.flip(load({ REDIS_URL: "http://:hunter2@127.0.0.1", DDN_COORDINATION_SECRET: secret }))
      expect(String(bad)).toContain("REDIS_URL")
      expect(String(bad)).not.toContain("hunter2")
      const settings = yield* load({ REDIS_URL: "rediss://127.0.0.1:6380/2", DDN_COORDINATION_SECRET: secret })
      expect(Option.map(settings, (s) => Redacted.value(s.url).href)).toEqual(Option.some("rediss://127.0.0.1:6380/2"))
    })
  )

  it.effect("DDN_COORDINATION_FAILOVER_MS and DDN_COORDINATION_LEASE_MS: defaults, values, bounds", () =>
    Effect.gen(function* () {
      const base = { REDIS_URL: "redis://127.0.0.1", DDN_COORDINATION_SECRET: secret }
      const defaults = Option.getOrThrow(yield* load(base))
      expect(Duration.toMillis(defaults.failoverGrace)).toBe(5_000)
      expect(Duration.toMillis(defaults.lease)).toBe(3_000)
      const set = Option.getOrThrow(
        yield* load({ ...base, DDN_COORDINATION_FAILOVER_MS: "0", DDN_COORDINATION_LEASE_MS: "10000" })
      )
      expect(Duration.toMillis(set.failoverGrace)).toBe(0)
      expect(Duration.toMillis(set.lease)).toBe(10_000)
      for (const value of ["299", "60001", "3s", " "]) {
        const error = yield* Effect.flip(load({ ...base, DDN_COORDINATION_LEASE_MS: value }))
        expect(String(error)).toContain("DDN_COORDINATION_LEASE_MS")
      }
    })
  )
})

describe("coordinationCipher", () => {
  it("seals for one token and key: another token, key or secret, or a flipped bit, opens nothing", () => {
    const token = "refresh-token-0123456789"
    const key = cipher.keyOf(token)
    const sealed = cipher.seal(token, key, "plaintext")
    expect(cipher.open(token, key, sealed)).toBe("plaintext")
    expect(cipher.open("another-token", key, sealed)).toBeUndefined()
    expect(cipher.open(token, cipher.keyOf("another-token"), sealed)).toBeUndefined()
    expect(Cipher.make(Buffer.from("another-secret-of-32-characters!!")).open(token, key, sealed)).toBeUndefined()
    const bytes = Buffer.from(sealed.slice(3), "base64url")
    bytes[20] = bytes[20]! ^ 1
    expect(cipher.open(token, key, `v1.${bytes.toString("base64url")}`)).toBeUndefined()
    expect(sealed).not.toContain("plaintext")
    expect(key).not.toContain(token)
    expect(Cipher.make(Buffer.from("another-secret-of-32-characters!!")).keyOf(token)).not.toBe(key)
    expect(cipher.seal(token, key, "plaintext")).not.toBe(sealed)
  })

  it("is the documented construction, so what one release sealed the next one opens", () => {
    // Sub-keys from the secret with HKDF-SHA256; the value key with HKDF-SHA256 of the token, salted.
    const derive = (input: string | Buffer, salt: Buffer, info: string) =>
      Buffer.from(hkdfSync("sha256", input, salt, `ddn-coordination/v1/${info}`, 32))
    const token = "refresh-token-0123456789"
    const macKey = derive(secret, Buffer.alloc(0), "key-names")
    const key = createHmac("sha256", macKey).update(token).digest("base64url")
    expect(cipher.keyOf(token)).toBe(key)
    const valueKey = derive(token, derive(secret, Buffer.alloc(0), "value-salt"), "value")
    const bytes = Buffer.from(cipher.seal(token, key, "plaintext").slice(3), "base64url")
    const decipher = createDecipheriv("aes-256-gcm", valueKey, bytes.subarray(0, 12))
      .setAAD(Buffer.from(key))
      .setAuthTag(bytes.subarray(bytes.length - 16))
    const opened = Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()])
    expect(opened.toString("utf8")).toBe("plaintext")
  })
})
