/**
 * `@ddn/gateway`: the DDN token refresh as the `refreshToken` GraphQL mutation, over the `@ddn/auth`
 * core, hardened and observable. `main.ts` is the process entry (`node dist/main.js`).
 *
 * @since 0.1.0
 */
export * as BoundedRateLimiterStore from "./BoundedRateLimiterStore.js"
export * as Cli from "./Cli.js"
export * as ClientAddress from "./ClientAddress.js"
export * as ClientRateLimit from "./ClientRateLimit.js"
export * as Environment from "./Environment.js"
export * as Gateway from "./Gateway.js"
export * as GatewayConfig from "./GatewayConfig.js"
export * as GatewayLogger from "./GatewayLogger.js"
export * as GatewayRuntime from "./GatewayRuntime.js"
export * as GraphiQL from "./GraphiQL.js"
export * as GraphqlSchema from "./GraphqlSchema.js"
export * as GraphqlServer from "./GraphqlServer.js"
export * as Hardening from "./Hardening.js"
export * as HttpServer from "./HttpServer.js"
export * as Metrics from "./Metrics.js"
export * as MetricsServer from "./MetricsServer.js"
export * as NoEcho from "./NoEcho.js"
export * as Readiness from "./Readiness.js"
export * as RedisRateLimiterStore from "./RedisRateLimiterStore.js"
export * as RefreshResult from "./RefreshResult.js"
export * as RequestLog from "./RequestLog.js"
export * as Tracing from "./Tracing.js"
