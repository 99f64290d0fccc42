/**
 * A `RateLimiterStore` for `@effect/experimental`'s `RateLimiter` in Redis, so that the per-client
 * limit holds across every instance behind the balancer: a client that spreads its requests over
 * N instances still gets `RATE_LIMIT_PER_MINUTE`, not N times it.
 *
 * It speaks the same algorithms as the package's own `RateLimiter/Redis` store (the token bucket
 * and the fixed window, each one Lua script, so one round trip and atomic), with three differences
 * that matter on the open internet:
 *
 * - **Every key expires**: a bucket's key lives until the bucket would be full again (then it is
 *   the same as no key), a window's until the window ends. The package's bucket keys never expire,
 *   so a flood of client addresses (IPv6 makes them free) would grow Redis for ever.
 * - **No client address in Redis**: the key is `ddn:ratelimit:v1:` + HMAC-SHA256 of the client key
 *   under a key derived with HKDF from `DDN_COORDINATION_SECRET` (its own `info` label, apart from
 *   the coordinator's keys).
 * - **Local while Redis is away**: it runs over the gateway's {@link RedisConnection} (no offline
 *   queue, 250 ms command timeout); when Redis is unhealthy or a command fails, the `fallback` store
 *   in this process's memory answers instead (so each instance limits on its own meanwhile), and
 *   Redis answers again as soon as it is back. A refresh never waits on a dead Redis for its limit.
 *
 * Time comes from Effect's `Clock` of the caller, as in the package's store: instances whose clocks
 * disagree by `d` shift a bucket's refill by at most `d`.
 *
 * @since 0.2.0
 */
import { createHmac, hkdfSync } from "node:crypto"
import { RedisConnection } from "@ddn/auth/redis"
import * as RateLimiter from "@effect/experimental/RateLimiter"
import type * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as SubscriptionRef from "effect/SubscriptionRef"
import type { Redis } from "ioredis"
import * as BoundedRateLimiterStore from "./BoundedRateLimiterStore.js"
import * as ThrottledWarning from "./internal/throttledWarning.js"

/**
 * Store settings.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The secret shared by every instance (`DDN_COORDINATION_SECRET`); key names are HMACs under it. */
  readonly secret: Redacted.Redacted<string>
  /** Answers while Redis is away. Default: a {@link BoundedRateLimiterStore} with its defaults. */
  readonly fallback?: Context.Tag.Service<RateLimiter.RateLimiterStore> | undefined
}

/**
 * Where every key of the store starts.
 *
 * @since 0.1.0
 * @category constants
 */
export const keyPrefix = "ddn:ratelimit:v1:"

// KEYS[1] a hash {tokens, last}; ARGV tokens, refill ms, limit, now ms, overflow (0|1). Returns
// the tokens left after taking (negative: refused, nothing taken unless overflow). The key expires
// when the bucket would be full again, which is what a missing key means.
const tokenBucketScript = `
local key = KEYS[1]
local tokens = tonumber(ARGV[1])
local refill_ms = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
local overflow = ARGV[5] == "1"
local state = redis.call("HMGET", key, "tokens", "last")
local current = tonumber(state[1])
local last = tonumber(state[2])
if not current or not last then
  current = limit
  last = now
end
local refill = math.floor((now - last) / refill_ms)
if refill > 0 then
  current = math.min(current + refill, limit)
  last = last + refill * refill_ms
end
local next = current - tokens
if next >= 0 or overflow then
  current = next
end
redis.call("HSET", key, "tokens", current, "last", last)
local full_at = last + (limit - current) * refill_ms
-- PEXPIRE takes whole milliseconds; a refill interval may be a fraction of one (a huge limit).
redis.call("PEXPIRE", key, math.ceil(math.max(full_at - now, 0) + refill_ms))
return next
`

// KEYS[1] a counter; ARGV tokens, refill ms, limit (or ""). Returns {count, ms until the window
// ends}, as the package's script does; the counter is refused past the limit and never kept past its window.
const fixedWindowScript = `
local key = KEYS[1]
local tokens = tonumber(ARGV[1])
local refill_ms = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local current = tonumber(redis.call("GET", key))
if not current then
  local ttl = math.ceil(refill_ms * tokens)
  redis.call("SET", key, tokens, "PX", ttl)
  return { tokens, ttl }
end
local ttl = tonumber(redis.call("PTTL", key))
if ttl < 0 then ttl = 0 end
local next = current + tokens
if limit and next > limit then
  return { next, ttl }
end
ttl = math.ceil(ttl + refill_ms * tokens)
redis.call("SET", key, next, "PX", ttl)
return { next, ttl }
`

interface ScriptedRedis extends Redis {
  ddnRateLimitTokenBucket(
    key: string,
    tokens: number,
    refillMillis: number,
    limit: number,
    now: number,
    overflow: 0 | 1
  ): Promise<number>
  ddnRateLimitFixedWindow(key: string, tokens: number, refillMillis: number, limit: string): Promise<[number, number]>
}

const scripted = (client: Redis): ScriptedRedis => {
  const redis = client as ScriptedRedis
  // ioredis sends EVALSHA and falls back to EVAL once after a Redis restart lost its script cache.
  if (typeof redis.ddnRateLimitTokenBucket !== "function") {
    redis.defineCommand("ddnRateLimitTokenBucket", { lua: tokenBucketScript, numberOfKeys: 1 })
    redis.defineCommand("ddnRateLimitFixedWindow", { lua: fixedWindowScript, numberOfKeys: 1 })
  }
  return redis
}

/**
 * The key under which `key`'s state lives: no client address, only an HMAC under the shared secret.
 *
 * @since 0.1.0
 * @category utils
 */
export const keyNamer = (secret: Redacted.Redacted<string>): ((key: string) => string) => {
  const macKey = Buffer.from(
    hkdfSync("sha256", Redacted.value(secret), Buffer.alloc(0), "ddn-ratelimit/v1/key-names", 32)
  )
  return (key) => keyPrefix + createHmac("sha256", macKey).update(key).digest("base64url")
}

/**
 * The store over the {@link RedisConnection} in context (see the module's description).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options
): Effect.Effect<Context.Tag.Service<RateLimiter.RateLimiterStore>, never, RedisConnection.RedisConnection> =>
  Effect.gen(function* () {
    const connection = yield* RedisConnection.RedisConnection
    const redis = scripted(connection.client)
    const fallback = options.fallback ?? BoundedRateLimiterStore.make()
    const keyOf = keyNamer(options.secret)
    // A refusal leaves Redis healthy, so nothing else says the limit went local; once a minute at most.
    const refused = yield* ThrottledWarning.make(
      "rate limit: Redis refused the command; counted in this instance's memory meanwhile"
    )
    const shared = <A, E, R>(
      command: (redis: ScriptedRedis) => Promise<A>,
      local: Effect.Effect<A, E, R>
    ): Effect.Effect<A, E, R> =>
      Effect.flatMap(SubscriptionRef.get(connection.healthy), (healthy) =>
        healthy
          ? connection
              .use(() => command(redis))
              .pipe(Effect.catchAll((error) => (error.reason === "Refused" ? Effect.zipRight(refused, local) : local)))
          : local
      )

    return RateLimiter.RateLimiterStore.of({
      tokenBucket: (request) =>
        Effect.clockWith((clock) =>
          shared(
            (redis) =>
              redis.ddnRateLimitTokenBucket(
                keyOf(request.key),
                request.tokens,
                Duration.toMillis(request.refillRate),
                request.limit,
                clock.unsafeCurrentTimeMillis(),
                request.allowOverflow ? 1 : 0
              ),
            Effect.suspend(() => fallback.tokenBucket(request))
          )
        ),
      fixedWindow: (request) =>
        shared(
          (redis) =>
            redis.ddnRateLimitFixedWindow(
              keyOf(request.key),
              request.tokens,
              Duration.toMillis(request.refillRate),
              request.limit === undefined ? "" : String(request.limit)
            ),
          Effect.suspend(() => fallback.fixedWindow(request))
        )
    })
  })

/**
 * The store as a layer over the {@link RedisConnection} layer it shares with the coordinator.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<RateLimiter.RateLimiterStore, never, RedisConnection.RedisConnection> =>
  Layer.effect(RateLimiter.RateLimiterStore, make(options))
