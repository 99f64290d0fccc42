/**
 * The one `ManagedRuntime` of a gateway process: the core's `RefreshCoordinator` (in memory, or
 * through Redis with `REDIS_URL`) over its `DdnAuthClient` over a pooled keep-alive undici
 * `HttpClient`, the per-client rate limit over its store, and the gateway's JSON logger at
 * `LOG_LEVEL`. Built once at start-up, disposed
 * on shutdown (which closes the upstream connection pool). Tracing (`Tracing.ts`) exports over OTLP
 * when an endpoint is configured, and is off otherwise, since unexported spans cost CPU on every refresh.
 *
 * @since 0.1.0
 */
import { DdnAuthClient, RefreshCoordinator } from "@ddn/auth"
import { RedisConnection, RefreshCoordinator as SharedCoordinator } from "@ddn/auth/redis"
import type * as RateLimiter from "@effect/experimental/RateLimiter"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import Undici from "@effect/platform-node/Undici"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import * as BoundedRateLimiterStore from "./BoundedRateLimiterStore.js"
import * as ClientRateLimit from "./ClientRateLimit.js"
import type * as GatewayConfig from "./GatewayConfig.js"
import * as GatewayLogger from "./GatewayLogger.js"
import * as RedisRateLimiterStore from "./RedisRateLimiterStore.js"
import * as Tracing from "./Tracing.js"

/**
 * The services a gateway runtime provides: resolvers refresh through the coordinator, within the
 * client's limit; readiness and metrics read the client's upstream status, and readiness probes DDN
 * through the client's `HttpClient` (the same pool).
 *
 * @since 0.1.0
 * @category models
 */
export type Services =
  | RefreshCoordinator.RefreshCoordinator
  | ClientRateLimit.ClientRateLimit
  | DdnAuthClient.DdnAuthClient
  | HttpClient.HttpClient
  | Tracing.Tracing

/**
 * The runtime's type.
 *
 * @since 0.1.0
 * @category models
 */
export type GatewayRuntime = ManagedRuntime.ManagedRuntime<Services, never>

/**
 * The client's options from the config, talking to `apiUrl`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const clientOptions = (config: GatewayConfig.GatewayConfig, apiUrl: URL | string): DdnAuthClient.Options => ({
  ...config.upstream,
  apiUrl
})

/** Logging through `logger` at its level, for the runtime and every layer built under it. */
const logging = (logger: GatewayLogger.GatewayLogger) =>
  Layer.mergeAll(
    Logger.replace(Logger.defaultLogger, GatewayLogger.effectLogger(logger)),
    // Effect's tracer logger would copy every log line, its annotations and any cause (messages,
    // stacks) into the current span as an event: logs go to the log, spans carry only what
    // Tracing.ts lets through.
    Logger.remove(Logger.tracerLogger),
    Logger.minimumLogLevel(logger.level),
    // Every refresh's Exit is mapped by the gateway; the runtime's "unhandled error" line would be noise.
    Layer.setUnhandledErrorLogLevel(Option.none())
  )

/**
 * The coordinator and the per-client limit: with `REDIS_URL`, the coordinator works through Redis
 * (single-flight and the reuse window across every instance); else both live in this process's memory.
 */
const coordination = (config: GatewayConfig.GatewayConfig) => {
  const limitOver = <R>(store: Layer.Layer<RateLimiter.RateLimiterStore, never, R>) =>
    ClientRateLimit.layer({ perMinute: config.rateLimitPerMinute }).pipe(Layer.provide(store))
  return Option.match(config.coordination, {
    onNone: () =>
      Layer.merge(RefreshCoordinator.layerMemory(config.coordinator), limitOver(BoundedRateLimiterStore.layer())),
    onSome: ({ failoverGrace, lease, secret, url }) =>
      Layer.merge(
        SharedCoordinator.layerRedis({
          ...config.coordinator,
          secret,
          failoverGrace,
          lease,
          deadline: config.upstream.deadline
        }),
        // The limit's buckets in Redis too (HMAC keys, each with a TTL), memory while Redis is away.
        limitOver(RedisRateLimiterStore.layer({ secret }))
      ).pipe(Layer.provide(RedisConnection.layer({ url })))
  })
}

/**
 * The upstream connection pool: an undici `Agent` of at most `maxInFlight` connections per origin,
 * the bound the client puts on its calls in flight, so a hanging DDN cannot pile up sockets.
 *
 * @since 0.1.0
 * @category layers
 */
export const upstreamPool = (maxInFlight: number): Layer.Layer<NodeHttpClient.Dispatcher> =>
  Layer.scoped(
    NodeHttpClient.Dispatcher,
    Effect.acquireRelease(
      Effect.sync(() => new Undici.Agent({ connections: maxInFlight })),
      (agent) => Effect.promise(() => agent.destroy())
    )
  )

/**
 * The runtime's layer: the `RefreshCoordinator` over the client over undici (a pool of
 * `DDN_MAX_IN_FLIGHT` connections, its `HttpClient` kept for the readiness probe), the per-client
 * limit, logging through `logger` at its level.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  config: GatewayConfig.GatewayConfig,
  apiUrl: URL | string,
  logger: GatewayLogger.GatewayLogger
): Layer.Layer<Services> =>
  coordination(config).pipe(
    Layer.provideMerge(DdnAuthClient.layer(clientOptions(config, apiUrl))),
    Layer.provideMerge(NodeHttpClient.layerUndiciWithoutDispatcher),
    Layer.provide(upstreamPool(config.upstream.maxInFlight ?? DdnAuthClient.defaults.maxInFlight)),
    // Tracing off disables Effect's tracer for everything above (see `Tracing.layer`).
    Layer.provideMerge(Tracing.layer(config.tracing)),
    Layer.provideMerge(logging(logger))
  )

/**
 * Makes the runtime; its layer is built on first use (the gateway forces that at start-up).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  config: GatewayConfig.GatewayConfig,
  apiUrl: URL | string,
  logger: GatewayLogger.GatewayLogger
): GatewayRuntime => ManagedRuntime.make(layer(config, apiUrl, logger))
