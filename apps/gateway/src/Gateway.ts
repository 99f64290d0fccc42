/**
 * A whole gateway in this process: runtime, schema, yoga, metrics (on their own listener), readiness
 * and HTTP server, wired once.
 * `main.ts` uses it for the process; tests use it in-process.
 *
 * @since 0.1.0
 */
import { DdnAuthClient, RefreshCoordinator } from "@ddn/auth"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as LogLevel from "effect/LogLevel"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Tracer from "effect/Tracer"
import * as ClientRateLimit from "./ClientRateLimit.js"
import type * as GatewayConfig from "./GatewayConfig.js"
import * as GatewayLogger from "./GatewayLogger.js"
import * as GatewayRuntime from "./GatewayRuntime.js"
import * as GraphiQL from "./GraphiQL.js"
import * as GraphqlSchema from "./GraphqlSchema.js"
import * as GraphqlServer from "./GraphqlServer.js"
import * as Hardening from "./Hardening.js"
import * as HttpServer from "./HttpServer.js"
import * as Metrics from "./Metrics.js"
import * as MetricsServer from "./MetricsServer.js"
import * as Readiness from "./Readiness.js"
import * as RefreshResult from "./RefreshResult.js"
import * as Tracing from "./Tracing.js"

/**
 * A running gateway.
 *
 * @since 0.1.0
 * @category models
 */
export interface Gateway {
  /** Base URL with the actual port, e.g. `http://127.0.0.1:4000`. */
  readonly url: string
  /** The GraphQL endpoint, `${url}/graphql`. */
  readonly graphqlUrl: string
  readonly port: number
  /** The DDN API the gateway talks to. */
  readonly apiUrl: string
  /** The metrics endpoint, e.g. `http://127.0.0.1:9464/metrics`; undefined with `METRICS_PORT=off`. */
  readonly metricsUrl: string | undefined
  /** The port of the metrics listener (the actual one with `METRICS_PORT=0`). */
  readonly metricsPort: number | undefined
  /**
   * Graceful shutdown: stop accepting, let in-flight requests finish (up to the grace period),
   * dispose the runtime (closing the upstream pool), flush the logs. Idempotent.
   */
  readonly close: () => Promise<void>
}

/**
 * Start-up options beyond the config.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The DDN API to use; default `config.ddnApiUrl` (one of the two is required). */
  readonly apiUrl?: URL | string | undefined
  /** Where log lines go; default stdout. */
  readonly logSink?: GatewayLogger.Sink | undefined
  /**
   * Mints a refresh token for each GraphiQL page load (the embedded sandbox's demo sessions), so
   * Run always trades a fresh one; without it GraphiQL opens with a placeholder.
   */
  readonly mintDemoRefreshToken?: (() => string) | undefined
  /** Wraps the coordinator the resolvers call (`coordinate`), e.g. to inject a defect in a test. */
  readonly decorateRefresh?:
    | ((coordinator: RefreshCoordinator.Service) => Pick<RefreshCoordinator.Service, "coordinate">)
    | undefined
  /**
   * The public listener's header size and timeouts, used as given; default `Hardening.httpLimits`
   * with the config's keep-alive timeout (`KEEP_ALIVE_TIMEOUT_MS`).
   */
  readonly httpLimits?: Hardening.HttpLimits | undefined
  /** How often `/readyz` may probe DDN; default 5 s. */
  readonly readinessInterval?: Duration.DurationInput | undefined
}

/**
 * Starts a gateway from `config`; rejects if a port cannot be bound (the error's `listener` is
 * `"metrics"` when it is the metrics port).
 *
 * @since 0.1.0
 * @category constructors
 */
export const start = async (config: GatewayConfig.GatewayConfig, options: Options = {}): Promise<Gateway> => {
  const apiUrl = options.apiUrl ?? Option.getOrUndefined(config.ddnApiUrl)
  if (apiUrl === undefined) throw new Error("Gateway.start: no DDN API URL (set DDN_API_URL or pass apiUrl)")
  const logger = GatewayLogger.make({ level: config.logLevel, sink: options.logSink })
  const runtime = GatewayRuntime.make(config, apiUrl, logger)

  try {
    const coordinator = await runtime.runPromise(RefreshCoordinator.RefreshCoordinator)
    const client = options.decorateRefresh?.(coordinator) ?? coordinator
    const upstreamClient = await runtime.runPromise(DdnAuthClient.DdnAuthClient)
    // The status with the runtime's clock, for readers outside Effect (scrapes, readiness).
    const upstreamStatus = () => runtime.runSync(Effect.zip(upstreamClient.upstream, Clock.currentTimeMillis))
    const metrics = Metrics.make(() => runtime.runSync(Metric.snapshot), upstreamStatus)

    const rateLimit = await runtime.runPromise(ClientRateLimit.ClientRateLimit)

    const tracing = await runtime.runPromise(Tracing.Tracing)
    const tracer = await runtime.runPromise(Tracing.requestTracer)

    const refresh = async (
      token: string,
      signal: AbortSignal,
      span?: Tracer.Span
    ): Promise<RefreshResult.Resolution> => {
      const startedAt = performance.now()
      const coordinated = client.coordinate(Redacted.make(token))
      const exit = await runtime.runPromiseExit(
        span === undefined ? coordinated : Effect.withParentSpan(coordinated, span),
        { signal }
      )
      const resolution = RefreshResult.fromExit(exit, signal.aborted)
      metrics.observeRefresh(resolution.outcome, (performance.now() - startedAt) / 1000)
      if (resolution.outcome === "internal" && Exit.isFailure(exit) && logger.isEnabled(LogLevel.Error)) {
        logger.log(LogLevel.Error, "refresh failed unexpectedly", { cause: Cause.pretty(exit.cause) })
      }
      return resolution
    }

    const plugins =
      rateLimit.perMinute === 0
        ? []
        : [
            ClientRateLimit.plugin({
              trustProxyHops: config.trustProxyHops,
              consume: (key, refreshes) => runtime.runPromiseExit(rateLimit.consume(key, refreshes)),
              onRefused: (refreshes, seconds) => {
                for (let i = 0; i < refreshes; i++) metrics.observeRefresh("rate_limited", seconds)
              }
            })
          ]
    const yoga = GraphqlServer.make({
      schema: GraphqlSchema.make({ refresh }),
      config,
      logger,
      mintDemoRefreshToken: options.mintDemoRefreshToken,
      plugins: tracer === undefined ? plugins : [Tracing.operationPlugin(tracer), ...plugins]
    })
    const readiness = await runtime.runPromise(
      Readiness.make({
        apiUrl,
        interval: options.readinessInterval ?? Readiness.defaults.interval,
        members: [
          { name: "coordination", read: () => runtime.runSync(coordinator.coordination) },
          { name: "upstream", read: () => Readiness.upstreamMember(...upstreamStatus()) }
        ]
      })
    )

    const metricsServer = await Option.match(config.metricsPort, {
      onNone: () => Promise.resolve(undefined),
      onSome: (port) =>
        MetricsServer.listen({
          host: config.metricsHost,
          port,
          render: async () => ({ contentType: metrics.contentType, body: await metrics.render() })
        }).catch((error: unknown) => {
          throw Object.assign(error as Error, { listener: "metrics" })
        })
    })
    const server = await HttpServer.listen({
      host: config.host,
      port: config.port,
      logger,
      varyOrigin: config.corsOrigins.length > 0,
      limits: options.httpLimits ?? {
        ...Hardening.httpLimits,
        keepAliveTimeoutMs: Duration.toMillis(config.keepAliveTimeout)
      },
      tracer,
      handlers: {
        graphql: (request, response, requestState) => yoga.handle(request, response, { requestState }),
        ready: () => runtime.runPromise(readiness),
        files: config.production
          ? undefined
          : { prefix: GraphiQL.assetPrefix, paths: GraphiQL.assetPaths, serve: GraphiQL.serveAsset }
      }
    }).catch(async (error: unknown) => {
      await metricsServer?.close()
      throw error
    })

    let closing: Promise<void> | undefined
    const close = () => {
      closing ??= (async () => {
        const grace = Duration.toMillis(config.shutdownGrace)
        const closingAt = performance.now()
        await server.close(grace)
        await metricsServer?.close()
        // Buffered spans are exported within what is left of the grace.
        if (tracing.enabled) {
          await runtime.runPromise(tracing.flush(Math.max(0, grace - (performance.now() - closingAt))))
        }
        await yoga.dispose()
        await runtime.dispose()
        logger.flush()
      })()
      return closing
    }

    return {
      url: server.url,
      graphqlUrl: `${server.url}${GraphqlServer.endpoint}`,
      port: server.port,
      apiUrl: String(apiUrl),
      metricsUrl: metricsServer?.url,
      metricsPort: metricsServer?.port,
      close
    }
  } catch (error) {
    await runtime.dispose()
    logger.flush()
    throw error
  }
}
