/** @internal */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as Option from "effect/Option"
import * as Tracer from "effect/Tracer"
import type { Redis } from "ioredis"
import * as RedisConnection from "../redis/RedisConnection.js"
import type { Claim, CoordinationStore } from "./coordinationStore.js"

/**
 * The coordination store on Redis. Per coordination key `k` (an HMAC, see `coordinationCipher.ts`):
 *
 *     {prefix}{k}:lease     the holder id of the call in flight        PX lease (renewed)
 *     {prefix}{k}:outcome   the sealed outcome of the last call        PX max(reuse window, wait bound)
 *     {prefix}{k}:waiting   "1" while someone waits for that call      PX wait bound
 *     {prefix}settled       pub/sub channel; a message is a key `k` whose outcome was just settled
 *
 * The `{k}` hash tag keeps the entries of a token in one cluster slot. Every step that reads and
 * writes is one Lua script, so it is atomic. A claim that finds the lease held marks the key as
 * waited for, and the settle publishes only then: most refreshes have no waiter, and a message
 * nobody needs costs Redis a write to every instance's subscriber and each instance a read.
 */
const claimScript = `
local outcome = redis.call("GET", KEYS[2])
if outcome and outcome ~= ARGV[3] then return { "kept", outcome, redis.call("GET", KEYS[1]) } end
if redis.call("SET", KEYS[1], ARGV[1], "NX", "PX", ARGV[2]) then return { "acquired" } end
redis.call("SET", KEYS[3], "1", "PX", ARGV[4])
return { "held", redis.call("GET", KEYS[1]) }
`

const renewScript = `
for i, key in ipairs(KEYS) do
  if redis.call("GET", key) == ARGV[i + 1] then redis.call("PEXPIRE", key, ARGV[1]) end
end
return 0
`

const settleScript = `
redis.call("SET", KEYS[2], ARGV[2], "PX", ARGV[3])
if redis.call("GET", KEYS[1]) == ARGV[1] then redis.call("DEL", KEYS[1]) end
if redis.call("DEL", KEYS[3]) == 1 then redis.call("PUBLISH", ARGV[4], ARGV[5]) end
return 0
`

const releaseScript = `
if redis.call("GET", KEYS[1]) == ARGV[1] then redis.call("DEL", KEYS[1]) end
return 0
`

interface ScriptedRedis extends Redis {
  ddnCoordinationClaim(
    lease: string,
    outcome: string,
    waiting: string,
    holder: string,
    leaseMs: number,
    seen: string,
    waitMs: number
  ): Promise<ReadonlyArray<string | null>>
  ddnCoordinationRenew(...args: ReadonlyArray<string | number>): Promise<number>
  ddnCoordinationSettle(
    lease: string,
    outcome: string,
    waiting: string,
    holder: string,
    value: string,
    ttlMs: number,
    channel: string,
    key: string
  ): Promise<number>
  ddnCoordinationRelease(lease: string, holder: string): Promise<number>
}

const defineScripts = (client: Redis): ScriptedRedis => {
  const scripted = client as ScriptedRedis
  if (typeof scripted.ddnCoordinationClaim === "function") return scripted
  client.defineCommand("ddnCoordinationClaim", { numberOfKeys: 3, lua: claimScript })
  client.defineCommand("ddnCoordinationRenew", { lua: renewScript })
  client.defineCommand("ddnCoordinationSettle", { numberOfKeys: 3, lua: settleScript })
  client.defineCommand("ddnCoordinationRelease", { numberOfKeys: 1, lua: releaseScript })
  return scripted
}

const orUndefined = (value: string | null | undefined) => (value === null ? undefined : value)

/**
 * A client span around one Redis round trip, with the semantic conventions' `db.*` attributes (the
 * command, the script, the server and database; never a key or a value). Only under a sampled
 * span: the background lease renewals start no trace of their own, and tracing off costs nothing.
 */
const traced =
  (client: Redis, operation: string, script?: string) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.flatMap(Effect.serviceOption(Tracer.ParentSpan), (parent) =>
      // No span, or one that is not sampled (tracing off gives a no-op span): nothing to record.
      Option.isNone(parent) || !parent.value.sampled
        ? effect
        : Effect.withSpan(effect, script === undefined ? operation : `${operation} ${script}`, {
            kind: "client",
            captureStackTrace: false,
            attributes: {
              "db.system.name": "redis",
              "db.operation.name": operation,
              ...(script === undefined ? {} : { "db.stored_procedure.name": script }),
              "db.namespace": String(client.options.db ?? 0),
              ...(client.options.host === undefined ? {} : { "server.address": client.options.host }),
              ...(client.options.port === undefined ? {} : { "server.port": client.options.port })
            }
          })
    )

/** The store over `connection`, with every key under `prefix`. */
export const make = (connection: RedisConnection.Service, prefix: string): Effect.Effect<CoordinationStore> =>
  Effect.gen(function* () {
    const redis = defineScripts(connection.client)
    const lease = (key: string) => `${prefix}{${key}}:lease`
    const outcome = (key: string) => `${prefix}{${key}}:outcome`
    const waiting = (key: string) => `${prefix}{${key}}:waiting`
    const channel = `${prefix}settled`

    const watchers = new Map<string, Set<Deferred.Deferred<void>>>()
    yield* connection.subscribe(channel, (key) => {
      for (const watcher of watchers.get(key) ?? []) Deferred.unsafeDone(watcher, Exit.void)
    })

    const watch = (key: string) =>
      Effect.acquireRelease(
        Effect.sync(() => {
          const watcher = Deferred.unsafeMake<void>(FiberId.none)
          const forKey = watchers.get(key) ?? new Set()
          forKey.add(watcher)
          watchers.set(key, forKey)
          return watcher
        }),
        (watcher) =>
          Effect.sync(() => {
            const forKey = watchers.get(key)
            forKey?.delete(watcher)
            if (forKey?.size === 0) watchers.delete(key)
          })
      ).pipe(Effect.map((watcher) => Deferred.await(watcher)))

    return {
      claim: (key, holder, leaseMillis, seen, waitMillis) =>
        connection
          .use(() =>
            redis.ddnCoordinationClaim(
              lease(key),
              outcome(key),
              waiting(key),
              holder,
              leaseMillis,
              seen ?? "",
              waitMillis
            )
          )
          .pipe(
            traced(redis, "EVALSHA", "claim"),
            Effect.map((reply): Claim => {
              switch (reply[0]) {
                case "acquired":
                  return { _tag: "Acquired" }
                case "kept":
                  return { _tag: "Kept", outcome: reply[1]!, holder: orUndefined(reply[2]) }
                default:
                  return { _tag: "Held", holder: orUndefined(reply[1]) }
              }
            })
          ),
      peek: (key) =>
        Effect.map(
          connection.use((client) => client.mget(outcome(key), lease(key))).pipe(traced(redis, "MGET")),
          ([kept, holder]) => ({ outcome: orUndefined(kept), holder: orUndefined(holder) })
        ),
      renew: (leases, leaseMillis) =>
        Effect.asVoid(
          connection
            .use(() =>
              redis.ddnCoordinationRenew(
                leases.length,
                ...leases.map(([key]) => lease(key)),
                leaseMillis,
                ...leases.map(([, holder]) => holder)
              )
            )
            .pipe(traced(redis, "EVALSHA", "renew"))
        ),
      settle: (key, holder, value, ttlMillis) =>
        Effect.asVoid(
          connection
            .use(() =>
              redis.ddnCoordinationSettle(
                lease(key),
                outcome(key),
                waiting(key),
                holder,
                value,
                ttlMillis,
                channel,
                key
              )
            )
            .pipe(traced(redis, "EVALSHA", "settle"))
        ),
      restore: (outcomes, leases, leaseMillis) =>
        outcomes.length === 0 && leases.length === 0
          ? Effect.void
          : Effect.asVoid(
              connection
                .use((client) => {
                  const pipeline = client.pipeline()
                  for (const [key, value, ttlMillis] of outcomes)
                    pipeline.set(outcome(key), value, "PX", ttlMillis, "NX")
                  for (const [key, holder] of leases) pipeline.set(lease(key), holder, "PX", leaseMillis, "NX")
                  return pipeline.exec().then(RedisConnection.throwPipelineErrors)
                })
                .pipe(traced(redis, "PIPELINE"))
            ),
      release: (key, holder) =>
        Effect.asVoid(
          connection
            .use(() => redis.ddnCoordinationRelease(lease(key), holder))
            .pipe(traced(redis, "EVALSHA", "release"))
        ),
      watch,
      healthy: connection.healthy
    }
  })
