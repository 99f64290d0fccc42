import { RefreshMetrics } from "@ddn/auth"
import { DdnAuthNode } from "@ddn/auth/node"
import { RedisConnection, RefreshCoordinator } from "@ddn/auth/redis"
import { SandboxServer } from "@ddn/sandbox"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Metric from "effect/Metric"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { type RedisServer, startRedis } from "../support/RedisServer.js"

/**
 * The Redis coordinator against a real redis-server and the real sandbox: two coordinators in this
 * process, each with its own connections, stand for two gateway instances.
 */
describe("RefreshCoordinator.layerRedis", () => {
  let redis: RedisServer
  let sandbox: SandboxServer.RunningSandbox
  beforeAll(async () => {
    ;[redis, sandbox] = await Promise.all([startRedis(), SandboxServer.start()])
  })
  afterAll(async () => {
    await Promise.all([redis?.stop(), sandbox?.stop()])
  })
  beforeEach(() => sandbox.faults.reset())

  const secret = Redacted.make("a-coordination-secret-of-32-chars!!")
  const upstreamCalls = () => sandbox.stats().refreshRequests

  /** One "instance": its own Redis connections, its own client and memory, in `scope`. */
  const instance = (scope: Scope.Scope, options: Partial<RefreshCoordinator.RedisOptions> = {}) =>
    Effect.gen(function* () {
      const connection = RedisConnection.layer({ url: Redacted.make(new URL(redis.url)) })
      const layer = RefreshCoordinator.layerRedis({
        secret,
        lease: "600 millis",
        failoverGrace: "500 millis",
        ...options
      }).pipe(
        Layer.provideMerge(connection),
        Layer.provide(DdnAuthNode.layerOptions({ apiUrl: sandbox.url, retryBaseDelay: "10 millis" })),
        Layer.provide(Logger.remove(Logger.defaultLogger))
      )
      const context = yield* Layer.buildWithScope(layer, scope)
      const coordinator = Effect.runSync(Effect.provide(RefreshCoordinator.RefreshCoordinator, context))
      const redisConnection = Effect.runSync(Effect.provide(RedisConnection.RedisConnection, context))
      yield* waitFor(coordinator.coordination, (mode) => mode === "redis")
      return { coordinator, connection: redisConnection }
    })

  /** Polls `check` until `done` holds (at most 5 s). */
  const waitFor = <A>(check: Effect.Effect<A>, done: (a: A) => boolean) =>
    Effect.gen(function* () {
      for (let i = 0; i < 250; i++) {
        const value = yield* check
        if (done(value)) return value
        yield* Effect.sleep("20 millis")
      }
      return yield* Effect.dieMessage("condition not reached within 5 s")
    })

  const pair = (coordinated: RefreshCoordinator.Coordinated) =>
    `${Redacted.value(coordinated.grant.accessToken)}|${Redacted.value(coordinated.grant.refreshToken)}`

  const failureTag = (exit: Exit.Exit<unknown, { readonly _tag: string }>) =>
    Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error._tag : String(exit)

  it.scopedLive("concurrent refreshes of one token on two instances make one upstream call and share its pair", () =>
    Effect.gen(function* () {
      const scope = yield* Effect.scope
      const [a, b] = yield* Effect.all([instance(scope), instance(scope)])
      const token = Redacted.make(sandbox.authority.mintSession().refreshToken)
      sandbox.faults.inject({ type: "latency", ms: 300 })
      const before = upstreamCalls()
      const results = yield* Effect.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).coordinator.coordinate(token)),
        { concurrency: "unbounded" }
      )
      expect(upstreamCalls() - before).toBe(1)
      expect(new Set(results.map(pair)).size).toBe(1)
      expect(results.filter((result) => result.source === "upstream")).toHaveLength(1)
    })
  )

  it.scopedLive("a waiter is woken by the holder's notification; a refresh nobody waits for publishes none", () =>
    Effect.gen(function* () {
      const scope = yield* Effect.scope
      // Polling every 20 s: only the notification can answer the waiter within the test's time.
      const [a, b] = yield* Effect.all([instance(scope), instance(scope, { pollInterval: "20 seconds" })])
      const messages: Array<string> = []
      yield* a.connection.subscribe(`${RefreshCoordinator.redisDefaults.keyPrefix}settled`, (key) => messages.push(key))

      yield* a.coordinator.coordinate(Redacted.make(sandbox.authority.mintSession().refreshToken))
      sandbox.faults.inject({ type: "latency", ms: 300 })
      const token = Redacted.make(sandbox.authority.mintSession().refreshToken)
      const holder = yield* Effect.fork(a.coordinator.coordinate(token))
      yield* Effect.sleep("100 millis")
      const waited = yield* b.coordinator.coordinate(token)
      expect(waited.source).toBe("coalesced")
      expect(pair(waited)).toBe(pair(yield* Fiber.join(holder)))
      // The solo refresh published nothing; the waited-for one published once.
      yield* waitFor(
        Effect.sync(() => messages.length),
        (count) => count > 0
      )
      expect(messages).toHaveLength(1)
    })
  )

  it.scopedLive("a resubmission to the other instance gets the same pair from Redis, with no call", () =>
    Effect.gen(function* () {
      const scope = yield* Effect.scope
      const [a, b] = yield* Effect.all([instance(scope), instance(scope)])
      const token = Redacted.make(sandbox.authority.mintSession().refreshToken)
      const first = yield* a.coordinator.coordinate(token)
      const before = upstreamCalls()
      const again = yield* b.coordinator.coordinate(token)
      expect(upstreamCalls()).toBe(before)
      expect(again.source).toBe("reused")
      expect(pair(again)).toBe(pair(first))
    })
  )

  it.scopedLive("the reuse window outlives the instance that refreshed", () =>
    Effect.gen(function* () {
      const token = Redacted.make(sandbox.authority.mintSession().refreshToken)
      const first = yield* Effect.scoped(
        Effect.flatMap(Effect.scope, (scope) => Effect.flatMap(instance(scope), (a) => a.coordinator.coordinate(token)))
      )
      const b = yield* instance(yield* Effect.scope)
      const before = upstreamCalls()
      const again = yield* b.coordinator.coordinate(token)
      expect(upstreamCalls()).toBe(before)
      expect(pair(again)).toBe(pair(first))
    })
  )

  it.scopedLive("a rejection is shared by every waiter, and not kept for a later submission", () =>
    Effect.gen(function* () {
      const scope = yield* Effect.scope
      const [a, b] = yield* Effect.all([instance(scope), instance(scope)])
      const token = Redacted.make("never-issued-by-the-sandbox-0123456789abcdef")
      sandbox.faults.inject({ type: "latency", ms: 300 })
      const before = upstreamCalls()
      const exits = yield* Effect.all(
        Array.from({ length: 6 }, (_, i) => Effect.exit((i % 2 === 0 ? a : b).coordinator.coordinate(token))),
        { concurrency: "unbounded" }
      )
      expect(upstreamCalls() - before).toBe(1)
      expect(new Set(exits.map(failureTag))).toEqual(new Set(["RefreshTokenExpired"]))
      yield* Effect.exit(b.coordinator.coordinate(token))
      expect(upstreamCalls() - before).toBe(2)
    })
  )

  it.scopedLive(
    "a holder that dies mid-call: its lease lapses, a waiter takes over and answers within the deadline",
    () =>
      Effect.gen(function* () {
        const scope = yield* Effect.scope
        const [a, b] = yield* Effect.all([instance(scope), instance(scope, { deadline: "5 seconds" })])
        const token = Redacted.make(sandbox.authority.mintSession().refreshToken)
        // A's call hangs upstream; then A loses Redis for good, as a killed process would.
        sandbox.faults.inject({ type: "hang" })
        const before = upstreamCalls()
        yield* Effect.forkDaemon(a.coordinator.coordinate(token))
        yield* waitFor(Effect.sync(upstreamCalls), (calls) => calls > before)
        a.connection.client.disconnect()
        const takeovers = yield* Metric.value(RefreshMetrics.coordinationTakeovers)
        const startedAt = Date.now()
        const result = yield* b.coordinator.coordinate(token)
        expect(Date.now() - startedAt).toBeLessThan(5_000)
        expect(result.source).toBe("upstream")
        expect((yield* Metric.value(RefreshMetrics.coordinationTakeovers)).count).toBe(takeovers.count + 1)
      })
  )

  it.scopedLive("Redis stopped and restarted: degraded and local meanwhile, then coordinated again by itself", () =>
    Effect.gen(function* () {
      const scope = yield* Effect.scope
      const [a, b] = yield* Effect.all([instance(scope), instance(scope)])
      yield* Effect.promise(() => redis.stop())
      yield* waitFor(a.coordinator.coordination, (mode) => mode === "degraded")
      expect(Number((yield* Metric.value(RefreshMetrics.coordinationDegraded)).value)).toBe(1)
      // Within the failover grace (500 ms here) a refresh waits for Redis; past it, nothing waits.
      yield* Effect.sleep("500 millis")
      const startedAt = Date.now()
      const local = yield* a.coordinator.coordinate(Redacted.make(sandbox.authority.mintSession().refreshToken))
      expect(local.source).toBe("upstream")
      expect(Date.now() - startedAt).toBeLessThan(300)

      yield* Effect.promise(() => redis.start())
      yield* waitFor(a.coordinator.coordination, (mode) => mode === "redis")
      yield* waitFor(b.coordinator.coordination, (mode) => mode === "redis")
      const token = Redacted.make(sandbox.authority.mintSession().refreshToken)
      const first = yield* a.coordinator.coordinate(token)
      const again = yield* b.coordinator.coordinate(token)
      expect(again.source).toBe("reused")
      expect(pair(again)).toBe(pair(first))
    })
  )

  it.scopedLive(
    "a hung Redis costs a refresh at most the command timeout and the failover grace, then it is local",
    () =>
      Effect.gen(function* () {
        const scope = yield* Effect.scope
        const a = yield* instance(scope)
        redis.pause()
        yield* Effect.addFinalizer(() => Effect.sync(() => redis.resume()))
        const startedAt = Date.now()
        const result = yield* a.coordinator.coordinate(Redacted.make(sandbox.authority.mintSession().refreshToken))
        expect(result.source).toBe("upstream")
        // Bounded by the command timeout (250 ms) and the failover grace (500 ms here), with room for a busy machine.
        expect(Date.now() - startedAt).toBeLessThan(
          Duration.toMillis(RedisConnection.defaults.commandTimeout) + 500 + 1_000
        )
        expect(yield* a.coordinator.coordination).toBe("degraded")
        redis.resume()
        yield* waitFor(a.coordinator.coordination, (mode) => mode === "redis")
      })
  )

  it.scopedLive("a hung Redis fails a command, and a pipeline, with reason Timeout", () =>
    Effect.gen(function* () {
      const scope = yield* Effect.scope
      const { connection } = yield* instance(scope)
      redis.pause()
      yield* Effect.addFinalizer(() => Effect.sync(() => redis.resume()))
      const command = yield* Effect.flip(connection.use((client) => client.ping()))
      expect(command.reason).toBe("Timeout")
      // A pipeline's command that times out comes back in exec's results, not as its rejection.
      const pipeline = yield* Effect.flip(
        connection.use((client) => client.pipeline().get("a").get("b").exec().then(RedisConnection.throwPipelineErrors))
      )
      expect(pipeline.reason).toBe("Timeout")
      redis.resume()
    })
  )

  it.scopedLive(
    "Redis holds nothing readable: no token or piece of one in any key or value, and a TTL on every key",
    () =>
      Effect.gen(function* () {
        const scope = yield* Effect.scope
        const [a, b] = yield* Effect.all([instance(scope), instance(scope)])
        const tokens: Array<string> = []
        for (let i = 0; i < 5; i++) {
          const submitted = sandbox.authority.mintSession().refreshToken
          tokens.push(submitted)
          const granted = yield* a.coordinator.coordinate(Redacted.make(submitted))
          tokens.push(Redacted.value(granted.grant.refreshToken), Redacted.value(granted.grant.accessToken))
          yield* b.coordinator.coordinate(Redacted.make(submitted))
        }
        const rejected = "an-unknown-token-for-the-scan-0123456789"
        tokens.push(rejected)
        yield* Effect.exit(a.coordinator.coordinate(Redacted.make(rejected)))
        // One in flight while we look: its lease is there too.
        const hanging = sandbox.authority.mintSession().refreshToken
        tokens.push(hanging)
        sandbox.faults.inject({ type: "hang" })
        yield* Effect.forkIn(a.coordinator.coordinate(Redacted.make(hanging)), scope)
        yield* waitFor(
          Effect.promise(() => a.connection.client.keys("*:lease")),
          (keys) => keys.length > 0
        )

        const client = a.connection.client
        const keys = yield* Effect.promise(() => client.keys("*"))
        expect(keys.length).toBeGreaterThan(5)
        const pieces = new Set(
          tokens.flatMap((token) => Array.from({ length: token.length - 7 }, (_, i) => token.slice(i, i + 8)))
        )
        for (const key of keys) {
          const value = (yield* Effect.promise(() => client.get(key))) ?? ""
          // -1 would be a key without a TTL; -2 one that expired since KEYS listed it.
          const ttl = yield* Effect.promise(() => client.pttl(key))
          expect(ttl, key).not.toBe(-1)
          for (const piece of pieces) {
            expect(key.includes(piece)).toBe(false)
            expect(value.includes(piece)).toBe(false)
          }
        }
      })
  )
})
