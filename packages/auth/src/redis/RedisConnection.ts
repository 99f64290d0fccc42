/**
 * One ioredis 5 connection (and a subscriber beside it) with health tracking, for the pieces that
 * coordinate through Redis. Commands never queue while Redis is away and never wait longer than the
 * command timeout (default 250 ms): they fail with `RedisUnavailable`, and callers fall back to
 * something local. Start-up does not wait for Redis; ioredis reconnects by itself (backoff up to
 * 1 s), a hung server is noticed by the command timeout and re-checked with `PING` every second.
 *
 * ioredis is loaded when the layer is built, so importing this module costs nothing without Redis.
 *
 * @since 0.2.0
 */
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Runtime from "effect/Runtime"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import type { Redis } from "ioredis"
import * as EnvConfig from "../EnvConfig.js"

/**
 * Redis could not serve a command: not connected, too slow, or it answered with an error.
 *
 * @since 0.2.0
 * @category errors
 */
export class RedisUnavailable extends Schema.TaggedError<RedisUnavailable>()("RedisUnavailable", {
  reason: Schema.Literal("Disconnected", "Timeout", "CommandFailed", "Refused")
}) {
  override get message(): string {
    return this.reason === "Timeout"
      ? "Redis did not answer within the command timeout"
      : this.reason === "Disconnected"
        ? "Redis is not connected"
        : this.reason === "Refused"
          ? "Redis refused the command as invalid"
          : "Redis could not serve the command"
  }
}

/**
 * Whether `cause` is Redis refusing this one command (ioredis's `ReplyError` with `ERR …` or
 * `WRONGTYPE …`: a bad script or argument), which says nothing about its health; `LOADING`,
 * `READONLY`, `BUSY`, `MASTERDOWN` and lost connections do.
 */
const isRefusal = (cause: unknown): boolean => {
  if (typeof cause !== "object" || cause === null) return false
  const { message, name } = cause as { readonly name?: unknown; readonly message?: unknown }
  return name === "ReplyError" && typeof message === "string" && /^(ERR|WRONGTYPE)\b/.test(message)
}

/**
 * A pipeline's `exec` results, or a rejection with the error of its first failed command: ioredis
 * resolves `exec` even when commands fail (a command timeout among them), with each error in its
 * result, so a caller of {@link Service.use} passes them through this to fail as a command would.
 *
 * @since 0.2.0
 * @category utils
 */
export const throwPipelineErrors = <T>(
  results: Array<[error: Error | null, result: T]> | null
): Array<[error: Error | null, result: T]> | null => {
  for (const [error] of results ?? []) if (error !== null) throw error
  return results
}

/** ioredis's rejection of a command that outlived `commandTimeout`. */
const isTimeout = (cause: unknown): boolean => cause instanceof Error && cause.message === "Command timed out"

/**
 * The connection service.
 *
 * @since 0.2.0
 * @category tags
 */
export class RedisConnection extends Context.Tag("@ddn/auth/RedisConnection")<RedisConnection, Service>() {}

/**
 * What the connection offers.
 *
 * @since 0.2.0
 * @category models
 */
export interface Service {
  /**
   * Runs one command (or pipeline, or script) on the client, each command bounded by the command
   * timeout (a pipeline's through {@link throwPipelineErrors}); it applies to the client's own
   * connect-time commands too. A
   * failure marks the connection unhealthy until Redis answers again.
   */
  readonly use: <A>(command: (client: Redis) => Promise<A>) => Effect.Effect<A, RedisUnavailable>
  /** Calls `onMessage` for every message on `channel`, for as long as the connection lives. */
  readonly subscribe: (channel: string, onMessage: (message: string) => void) => Effect.Effect<void>
  /** Whether Redis answers right now; its `changes` stream starts with the current value. */
  readonly healthy: SubscriptionRef.SubscriptionRef<boolean>
  /** The ioredis client, for pieces that speak Redis themselves (e.g. a rate limiter's store). */
  readonly client: Redis
}

/**
 * Connection settings.
 *
 * @since 0.2.0
 * @category models
 */
export interface Options {
  /** `redis://` or `rediss://` (TLS) URL, with optional credentials and database (`/2`). */
  readonly url: Redacted.Redacted<URL>
  /** The longest a command may take before it counts as failed. Default 250 ms. */
  readonly commandTimeout?: Duration.DurationInput | undefined
}

/**
 * The defaults of `Options`.
 *
 * @since 0.2.0
 * @category config
 */
export const defaults = { commandTimeout: Duration.millis(250) } as const

/**
 * `REDIS_URL`: `redis://` or `rediss://`, `Redacted` since it may carry a password; never echoed.
 *
 * @since 0.2.0
 * @category config
 */
export const urlConfig: Config.Config<Redacted.Redacted<URL>> = Config.map(
  EnvConfig.url("REDIS_URL", ["redis:", "rediss:"], (url) =>
    /^\/?(\d{1,5})?$/.test(url.pathname) && url.search === "" && url.hash === ""
      ? undefined
      : "expected redis://[user:password@]host[:port][/database], with a numeric database and no query"
  ),
  Redacted.make
)

/**
 * `Options` from `REDIS_URL` (required).
 *
 * @since 0.2.0
 * @category config
 */
export const config: Config.Config<Options> = Config.map(urlConfig, (url) => ({ url }))

/**
 * Builds the connection; it is closed when the scope ends.
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Service, never, Scope.Scope> =>
  Effect.gen(function* () {
    const { Redis } = yield* Effect.promise(() => import("ioredis"))
    const timeout = Duration.decode(options.commandTimeout ?? defaults.commandTimeout)
    const runtime = yield* Effect.runtime<never>()
    const healthy = yield* SubscriptionRef.make(false)
    const setHealthy = (value: boolean) => Runtime.runSync(runtime)(SubscriptionRef.set(healthy, value))

    const common = {
      // Never queue commands while disconnected: a caller gets an error at once and goes local.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 1_000,
      retryStrategy: (times: number) => Math.min(50 * times, 1_000)
    }
    const client = yield* Effect.acquireRelease(
      Effect.sync(
        () => new Redis(Redacted.value(options.url).href, { ...common, commandTimeout: Duration.toMillis(timeout) })
      ),
      (client) => Effect.sync(() => client.disconnect())
    )
    // The subscriber may queue its SUBSCRIBE until connected; it resubscribes after every reconnect.
    const subscriber = yield* Effect.acquireRelease(
      Effect.sync(() => new Redis(Redacted.value(options.url).href, { ...common, enableOfflineQueue: true })),
      (subscriber) => Effect.sync(() => subscriber.disconnect())
    )
    // ioredis reports connection errors as events; the health flag and the warnings below say it all.
    client.on("error", () => {})
    subscriber.on("error", () => {})
    client.on("ready", () => setHealthy(true))
    client.on("close", () => setHealthy(false))

    const use = <A>(command: (client: Redis) => Promise<A>): Effect.Effect<A, RedisUnavailable> =>
      Effect.suspend(() => {
        if (client.status !== "ready") return Effect.fail(new RedisUnavailable({ reason: "Disconnected" }))
        // The client's own `commandTimeout` bounds each command (a pipeline's, in its results): an Effect timeout
        // around the promise cost ≈ 190 µs of CPU per command here, against ≈ 25 µs for the command.
        return Effect.tryPromise({
          try: () => command(client),
          catch: (cause) =>
            new RedisUnavailable({
              reason: isTimeout(cause) ? "Timeout" : isRefusal(cause) ? "Refused" : "CommandFailed"
            })
        }).pipe(
          // Redis refusing one command (a bad script or argument) says nothing about its health.
          Effect.tapError((error) => (error.reason === "Refused" ? Effect.void : SubscriptionRef.set(healthy, false)))
        )
      })

    // A connected but hung server is only noticed by a command's timeout: ask it again every second.
    yield* SubscriptionRef.get(healthy).pipe(
      Effect.flatMap((ok) =>
        ok || client.status !== "ready"
          ? Effect.void
          : use((client) => client.ping()).pipe(Effect.zipRight(SubscriptionRef.set(healthy, true)), Effect.ignore)
      ),
      Effect.repeat(Schedule.spaced(Duration.seconds(1))),
      Effect.forkScoped
    )

    // One line per change of state, never the URL (it may carry a password); a warning too when
    // Redis is still away a second after start-up.
    yield* healthy.changes.pipe(
      Stream.changes,
      Stream.drop(1),
      Stream.runForEach((ok) =>
        ok
          ? Effect.logInfo("Redis is reachable: coordinating across instances")
          : Effect.logWarning("Redis is unreachable: coordinating within this instance until it is back")
      ),
      Effect.forkScoped
    )
    yield* SubscriptionRef.get(healthy).pipe(
      Effect.delay(Duration.seconds(1)),
      Effect.flatMap((ok) =>
        ok ? Effect.void : Effect.logWarning("Redis is unreachable: coordinating within this instance until it is back")
      ),
      Effect.forkScoped
    )

    const listeners = new Map<string, Set<(message: string) => void>>()
    subscriber.on("message", (channel: string, message: string) => {
      for (const listener of listeners.get(channel) ?? []) listener(message)
    })
    const subscribe = (channel: string, onMessage: (message: string) => void) =>
      Effect.sync(() => {
        const existing = listeners.get(channel)
        if (existing !== undefined) return void existing.add(onMessage)
        listeners.set(channel, new Set([onMessage]))
        subscriber.subscribe(channel).catch(() => {})
      })

    return RedisConnection.of({ use, subscribe, healthy, client })
  })

/**
 * The connection as a layer.
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<RedisConnection> => Layer.scoped(RedisConnection, make(options))

/**
 * The connection from a `Config` of `Options` (default: `REDIS_URL`).
 *
 * @since 0.2.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config<Options> = config
): Layer.Layer<RedisConnection, ConfigError.ConfigError> => Layer.scoped(RedisConnection, Effect.flatMap(options, make))
