/**
 * `@ddn/gateway`: the DDN token refresh as the `refreshToken` GraphQL mutation, over the `@ddn/auth`
 * core, hardened and observable. `main.ts` is the process entry (`node dist/main.js`).
 *
 * @since 0.1.0
 */

/**
 * An in-memory `RateLimiterStore` with a bound on the keys it holds (least recently used evicted).
 *
 * @since 0.1.0
 * @category modules
 */
export * as BoundedRateLimiterStore from "./BoundedRateLimiterStore.js"

/**
 * The `ddn-gateway` command line: run, `--help`, `--version`.
 *
 * @since 0.1.0
 * @category modules
 */
export * as Cli from "./Cli.js"

/**
 * Who a request comes from, for the per-client rate limit (`TRUST_PROXY_HOPS`).
 *
 * @since 0.1.0
 * @category modules
 */
export * as ClientAddress from "./ClientAddress.js"

/**
 * The per-client refresh limit (`RATE_LIMIT_PER_MINUTE`): a service, its layer and its yoga plugin.
 *
 * @since 0.1.0
 * @category modules
 */
export * as ClientRateLimit from "./ClientRateLimit.js"

/**
 * Every environment variable the gateway reads, with its default and meaning.
 *
 * @since 0.1.0
 * @category modules
 */
export * as Environment from "./Environment.js"

/**
 * A whole gateway in this process, started from a config and closed gracefully.
 *
 * @since 0.1.0
 * @category modules
 */
export * as Gateway from "./Gateway.js"

/**
 * The gateway's settings, read from the environment with Effect `Config`.
 *
 * @since 0.1.0
 * @category modules
 */
export * as GatewayConfig from "./GatewayConfig.js"

/**
 * The gateway's one JSON line logger, for request lines, Effect logs and yoga.
 *
 * @since 0.1.0
 * @category modules
 */
export * as GatewayLogger from "./GatewayLogger.js"

/**
 * The one `ManagedRuntime` of a gateway process and its layer.
 *
 * @since 0.1.0
 * @category modules
 */
export * as GatewayRuntime from "./GatewayRuntime.js"

/**
 * GraphiQL served by the gateway itself, under a strict Content-Security-Policy.
 *
 * @since 0.1.0
 * @category modules
 */
export * as GraphiQL from "./GraphiQL.js"

/**
 * The GraphQL schema: the `refreshToken` mutation, its result union and the `DateTime` scalar.
 *
 * @since 0.1.0
 * @category modules
 */
export * as GraphqlSchema from "./GraphqlSchema.js"

/**
 * The graphql-yoga instance serving `/graphql`.
 *
 * @since 0.1.0
 * @category modules
 */
export * as GraphqlServer from "./GraphqlServer.js"

/**
 * What the gateway refuses, and the yoga/envelop pieces that refuse it.
 *
 * @since 0.1.0
 * @category modules
 */
export * as Hardening from "./Hardening.js"

/**
 * The gateway's public `node:http` server: routes, body limit, request log, graceful close.
 *
 * @since 0.1.0
 * @category modules
 */
export * as HttpServer from "./HttpServer.js"

/**
 * Prometheus metrics for `GET /metrics`.
 *
 * @since 0.1.0
 * @category modules
 */
export * as Metrics from "./Metrics.js"

/**
 * The `/metrics` listener, apart from the public port.
 *
 * @since 0.1.0
 * @category modules
 */
export * as MetricsServer from "./MetricsServer.js"

/**
 * No response repeats what the client sent: errors rewritten before they leave.
 *
 * @since 0.1.0
 * @category modules
 */
export * as NoEcho from "./NoEcho.js"

/**
 * `GET /readyz`: whether DDN answers, probed at most once per interval.
 *
 * @since 0.1.0
 * @category modules
 */
export * as Readiness from "./Readiness.js"

/**
 * A `RateLimiterStore` in Redis, so the per-client limit holds across instances.
 *
 * @since 0.1.0
 * @category modules
 */
export * as RedisRateLimiterStore from "./RedisRateLimiterStore.js"

/**
 * What a refresh becomes in GraphQL: data for expected outcomes, coded errors otherwise.
 *
 * @since 0.1.0
 * @category modules
 */
export * as RefreshResult from "./RefreshResult.js"

/**
 * One log line per HTTP request, never with a token or the query string.
 *
 * @since 0.1.0
 * @category modules
 */
export * as RequestLog from "./RequestLog.js"

/**
 * OpenTelemetry traces over OTLP/HTTP, on when an endpoint is configured.
 *
 * @since 0.1.0
 * @category modules
 */
export * as Tracing from "./Tracing.js"
