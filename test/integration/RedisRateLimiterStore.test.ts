import { RedisConnection } from "@ddn/auth/redis"
import { ClientRateLimit, RedisRateLimiterStore } from "@ddn/gateway"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as SubscriptionRef from "effect/SubscriptionRef"
import * as TestClock from "effect/TestClock"
import { type RedisServer, startRedis } from "../support/RedisServer.js"

/**
 * The per-client limit over the Redis store against a real redis-server: two limits in this
 * process, each with its own connection, stand for two gateway instances.
 */
describe("RedisRateLimiterStore", () => {
  let redis: RedisServer
  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(async () => {
    await redis?.stop()
  })

  const secret = Redacted.make("a-coordination-secret-of-32-chars!!")

  /** One "instance": its own connection and its own limit of `perMinute`, in `scope`. */
  const instance = (scope: Scope.Scope, perMinute: number) =>
    Effect.gen(function* () {
      const layer = ClientRateLimit.layer({ perMinute }).pipe(
        Layer.provide(RedisRateLimiterStore.layer({ secret })),
        Layer.provideMerge(RedisConnection.layer({ url: Redacted.make(new URL(redis.url)) })),
        Layer.provide(Logger.remove(Logger.defaultLogger))
      )
      const context = yield* Layer.buildWithScope(layer, scope)
      const limit = Effect.runSync(Effect.provide(ClientRateLimit.ClientRateLimit, context))
      const connection = Effect.runSync(Effect.provide(RedisConnection.RedisConnection, context))
      yield* waitHealthy(connection, true)
      return { limit, connection }
    })

  const waitHealthy = (connection: RedisConnection.Service, healthy: boolean) =>
    Effect.gen(function* () {
      for (let i = 0; i < 500; i++) {
        if ((yield* SubscriptionRef.get(connection.healthy)) === healthy) return
        yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 10)))
      }
      throw new Error(`Redis health did not become ${healthy}`)
    })

  const refused = (exit: Exit.Exit<void, ClientRateLimit.ClientRateLimited>) =>
    Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error.retryAfterSeconds : undefined

  /** Every key and value in Redis. */
  const dump = (connection: RedisConnection.Service) =>
    connection.use(async (client) => {
      const keys = await client.keys("*")
      return Promise.all(
        keys.map(async (key) => ({
          key,
          ttl: await client.pttl(key),
          value: JSON.stringify(await client.hgetall(key).catch(() => client.get(key)))
        }))
      )
    })

  it.scoped("one limit across instances: what one takes, the other cannot", () =>
    Effect.gen(function* () {
      const scope = yield* Effect.scope
      const a = yield* instance(scope, 5)
      const b = yield* instance(scope, 5)
      yield* a.limit.consume("203.0.113.7", 4)
      expect(refused(yield* Effect.exit(b.limit.consume("203.0.113.7", 2)))).toBeGreaterThanOrEqual(1)
      yield* b.limit.consume("203.0.113.7", 1)
      expect(refused(yield* Effect.exit(a.limit.consume("203.0.113.7", 1)))).toBe(12)
      // Another client has its own bucket.
      yield* b.limit.consume("198.51.100.9", 5)
    })
  )

  it.scoped("a bucket refills with time, by the caller's Clock", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(Date.now())
      const scope = yield* Effect.scope
      const a = yield* instance(scope, 60)
      const b = yield* instance(scope, 60)
      yield* a.limit.consume("192.0.2.1", 60)
      expect(refused(yield* Effect.exit(b.limit.consume("192.0.2.1", 1)))).toBe(1)
      yield* TestClock.adjust("3 seconds")
      yield* b.limit.consume("192.0.2.1", 3)
      expect(refused(yield* Effect.exit(a.limit.consume("192.0.2.1", 1)))).toBe(1)
    })
  )

  it.scoped("a limit whose refill is a fraction of a millisecond works in Redis, and Redis stays healthy", () =>
    Effect.gen(function* () {
      const scope = yield* Effect.scope
      const a = yield* instance(scope, 1_000_000_000)
      for (let i = 0; i < 5; i++) yield* a.limit.consume("192.0.2.99", 4)
      // Full again within a millisecond, so the key may be gone already; none is kept for ever.
      expect((yield* dump(a.connection)).filter(({ ttl }) => ttl === -1)).toEqual([])
      expect(yield* SubscriptionRef.get(a.connection.healthy)).toBe(true)
    })
  )

  it.scoped("nothing readable in Redis: HMAC key names, no address, a TTL on every key until the bucket is full", () =>
    Effect.gen(function* () {
      const scope = yield* Effect.scope
      const a = yield* instance(scope, 60)
      yield* Effect.promise(() => a.connection.client.flushall())
      yield* a.limit.consume("2001:db8::1", 10)
      yield* a.limit.consume("198.51.100.200", 1)
      const entries = yield* dump(a.connection)
      expect(entries).toHaveLength(2)
      for (const { key, ttl, value } of entries) {
        expect(key.startsWith(RedisRateLimiterStore.keyPrefix)).toBe(true)
        expect(`${key} ${value}`).not.toMatch(/2001|db8|198\.51|refresh:/)
        expect(ttl).toBeGreaterThan(0)
        // Full again after as many seconds as tokens taken (60 per minute), plus one refill.
        expect(ttl).toBeLessThanOrEqual(11_000)
      }
      expect(RedisRateLimiterStore.keyNamer(secret)("x")).not.toBe(
        RedisRateLimiterStore.keyNamer(Redacted.make("another-secret-of-at-least-32-chars"))("x")
      )
    })
  )

  it.scoped("Redis away: each instance limits locally at once, and shares again when Redis is back", () =>
    Effect.gen(function* () {
      const scope = yield* Effect.scope
      const a = yield* instance(scope, 3)
      const b = yield* instance(scope, 3)
      yield* Effect.promise(() => redis.kill())
      yield* waitHealthy(a.connection, false)
      // Local buckets: each instance gives the client its own 3.
      yield* a.limit.consume("203.0.113.50", 3)
      yield* b.limit.consume("203.0.113.50", 3)
      expect(refused(yield* Effect.exit(a.limit.consume("203.0.113.50", 1)))).toBeGreaterThanOrEqual(1)
      yield* Effect.promise(() => redis.start())
      yield* waitHealthy(a.connection, true)
      yield* waitHealthy(b.connection, true)
      // Shared again: Redis lost its keys, so a fresh bucket of 3 for both instances together.
      yield* a.limit.consume("203.0.113.50", 2)
      yield* b.limit.consume("203.0.113.50", 1)
      expect(refused(yield* Effect.exit(a.limit.consume("203.0.113.50", 1)))).toBeGreaterThanOrEqual(1)
    })
  )
})
