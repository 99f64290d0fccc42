/**
 * OpenTelemetry traces over OTLP/HTTP, on when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set; off, at no cost, otherwise (Effect's tracer
 * disabled, no span built anywhere).
 *
 * On, one trace per `/graphql` request, one tree: the HTTP server span (continuing an incoming W3C
 * `traceparent`, and answering with its own in the `traceparent` response header), the GraphQL
 * operation, the core's `RefreshCoordinator.refresh` (`ddn.refresh.source`: `upstream`, `coalesced`
 * or `reused`), `DdnAuthClient.refresh` (a `ddn.retry` event per retry, with its wait), one
 * `http.client` span per upstream attempt (status code, or the interruption of a timed-out attempt),
 * and the Redis commands when `REDIS_URL` is on. No trace context is sent to DDN (the core turns
 * propagation off). Spans go through `@effect/opentelemetry` to the SDK's batch processor, behind a
 * bound on waiting spans (`OTEL_BSP_MAX_QUEUE_SIZE`): spans beyond it, and those of failed exports,
 * are dropped and counted in `ddn_gateway_trace_spans_dropped_total{reason}`.
 *
 * Never in a span: a token, a GraphQL variable, the query text, a header value, a request body,
 * or an error's message (errors are their tag and code fields, see `internal/safeSpans.ts`).
 *
 * @since 0.1.0
 */
import type { IncomingMessage, ServerResponse } from "node:http"
import type { RefreshMetrics } from "@ddn/auth"
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import * as Resource from "@effect/opentelemetry/Resource"
import * as OtelTracer from "@effect/opentelemetry/Tracer"
import { parseTraceParent as parseOtelTraceParent } from "@opentelemetry/core"
import { OTLPTraceExporter as JsonExporter } from "@opentelemetry/exporter-trace-otlp-http"
import { OTLPTraceExporter as ProtobufExporter } from "@opentelemetry/exporter-trace-otlp-proto"
import { BatchSpanProcessor } from "@opentelemetry/sdk-trace-base"
import type * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as MetricLabel from "effect/MetricLabel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as EffectTracer from "effect/Tracer"
import { getOperationAST } from "graphql"
import type { Plugin } from "graphql-yoga"
import * as Cli from "./Cli.js"
import * as SafeSpans from "./internal/safeSpans.js"
import type * as RequestLog from "./RequestLog.js"

/**
 * `OTEL_EXPORTER_OTLP_PROTOCOL`: OTLP/HTTP with protobuf (the default) or JSON bodies.
 *
 * @since 0.1.0
 * @category models
 */
export type Protocol = "http/protobuf" | "http/json"

/**
 * `OTEL_TRACES_SAMPLER`: the SDK's built-in samplers.
 *
 * @since 0.1.0
 * @category models
 */
export type SamplerName =
  | "always_on"
  | "always_off"
  | "traceidratio"
  | "parentbased_always_on"
  | "parentbased_always_off"
  | "parentbased_traceidratio"

/**
 * How traces are exported; parsed by `GatewayConfig` from the standard `OTEL_*` variables.
 *
 * @since 0.1.0
 * @category models
 */
export interface Settings {
  /** The traces URL: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, or `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`. */
  readonly url: URL
  /** `OTEL_EXPORTER_OTLP_PROTOCOL`. Default `http/protobuf`. */
  readonly protocol: Protocol
  /** `OTEL_EXPORTER_OTLP_HEADERS`: sent to the collector (e.g. an API key); never logged or echoed. */
  readonly headers: Redacted.Redacted<Readonly<Record<string, string>>>
  /** `OTEL_SERVICE_NAME`. Default `ddn-gateway`. */
  readonly serviceName: string
  /** `OTEL_RESOURCE_ATTRIBUTES`: `key=value,…` on every span's resource. */
  readonly resourceAttributes: Readonly<Record<string, string>>
  /** `OTEL_TRACES_SAMPLER`. Default `parentbased_always_on`. */
  readonly sampler: SamplerName
  /** `OTEL_TRACES_SAMPLER_ARG`: the ratio of the `traceidratio` samplers, 0–1. Default 1. */
  readonly samplerRatio: number
  /** `OTEL_BSP_SCHEDULE_DELAY`: the longest a finished span waits for its batch. Default 5 s. */
  readonly scheduledDelay: Duration.Duration
  /** `OTEL_BSP_EXPORT_TIMEOUT`: the longest one export may take. Default 30 s. */
  readonly exportTimeout: Duration.Duration
  /** `OTEL_BSP_MAX_QUEUE_SIZE`: the most spans waiting (queued or being exported); more are dropped. Default 2048. */
  readonly maxQueueSize: number
  /** `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`: the most spans in one export. Default 512. */
  readonly maxExportBatchSize: number
}

/**
 * The tracing of a gateway runtime.
 *
 * @since 0.1.0
 * @category tags
 */
export class Tracing extends Context.Tag("@ddn/gateway/Tracing")<Tracing, Service>() {}

/**
 * What the gateway asks of its tracing.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Whether spans are made and exported. */
  readonly enabled: boolean
  /** Exports the finished spans still buffered, waiting at most `timeout` (on shutdown). */
  readonly flush: (timeout: Duration.DurationInput) => Effect.Effect<void>
}

/**
 * How an exporter presents {@link spansDropped} (as the core's `RefreshMetrics.descriptors` do theirs).
 *
 * @since 0.1.0
 * @category metrics
 */
export const spansDroppedDescriptor = {
  name: "ddn_gateway_trace_spans_dropped_total",
  help: "Spans dropped before reaching the collector (tracing on): queue_full or export_failed",
  type: "counter",
  label: { name: "reason", values: ["queue_full", "export_failed"] }
} as const satisfies RefreshMetrics.Descriptor

/**
 * Spans dropped before reaching the collector, by `reason`: `queue_full` or `export_failed`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const spansDropped = Metric.counter(spansDroppedDescriptor.name, {
  description: spansDroppedDescriptor.help,
  incremental: true
})

const queueFull = [MetricLabel.make(spansDroppedDescriptor.label.name, "queue_full")]
const exportFailed = [MetricLabel.make(spansDroppedDescriptor.label.name, "export_failed")]
const drops: SafeSpans.DropCounter = {
  queueFull: (spans) => spansDropped.unsafeUpdate(spans, queueFull),
  exportFailed: (spans) => spansDropped.unsafeUpdate(spans, exportFailed)
}

/**
 * The response header answering with the request's trace context.
 *
 * @since 0.1.0
 * @category constants
 */
export const traceparentHeader = "traceparent"

/**
 * The parent in a W3C `traceparent` header, when it is well formed (version 00, or a later one
 * read as 00; not `ff`; no all-zero id), read by OpenTelemetry's own parser; otherwise none, and
 * the request starts a trace of its own.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseTraceparent = (
  header: string | ReadonlyArray<string> | undefined
): Option.Option<EffectTracer.ExternalSpan> => {
  const parent = typeof header === "string" ? parseOtelTraceParent(header) : null
  return parent === null ? Option.none() : Option.some(OtelTracer.makeExternalSpan(parent))
}

/**
 * The W3C `traceparent` of `span`.
 *
 * @since 0.1.0
 * @category utils
 */
export const formatTraceparent = (span: EffectTracer.Span): string =>
  `00-${span.traceId}-${span.spanId}-${span.sampled ? "01" : "00"}`

/** The Effect tracer over OpenTelemetry's, ending every span with a {@link SafeSpans.safeExit}. */
const safeTracer = (inner: EffectTracer.Tracer): EffectTracer.Tracer =>
  EffectTracer.make({
    span(name, parent, context, links, startTime, kind, options) {
      const span = inner.span(name, parent, context, links, startTime, kind, options)
      const end = span.end
      ;(span as { end: EffectTracer.Span["end"] }).end = (endTime, exit) =>
        end.call(span, endTime, SafeSpans.safeExit(span, exit))
      return span
    },
    // Nothing in this process reads OpenTelemetry's active context (no context manager is
    // registered), so fibers need not enter one.
    context: (execution) => execution()
  })

const off: Layer.Layer<Tracing> = Layer.merge(
  Layer.succeed(Tracing, Tracing.of({ enabled: false, flush: () => Effect.void })),
  // No exporter: spans would be built and dropped, about a fifth of a refresh's CPU.
  Layer.setTracerEnabled(false)
)

const on = (settings: Settings): Layer.Layer<Tracing> => {
  const exporterOptions = {
    url: settings.url.href,
    headers: { ...Redacted.value(settings.headers) },
    timeoutMillis: Duration.toMillis(settings.exportTimeout)
  }
  const processor = SafeSpans.boundedProcessor(
    settings.maxQueueSize,
    drops,
    (wrap) =>
      new BatchSpanProcessor(
        wrap(
          settings.protocol === "http/json" ? new JsonExporter(exporterOptions) : new ProtobufExporter(exporterOptions)
        ),
        {
          maxQueueSize: settings.maxQueueSize,
          maxExportBatchSize: settings.maxExportBatchSize,
          scheduledDelayMillis: Duration.toMillis(settings.scheduledDelay),
          exportTimeoutMillis: Duration.toMillis(settings.exportTimeout)
        }
      )
  )
  const service = Tracing.of({
    enabled: true,
    flush: (timeout) =>
      Effect.promise(() => processor.forceFlush().catch(() => undefined)).pipe(
        Effect.timeoutOption(timeout),
        Effect.asVoid
      )
  })
  const tracer = Layer.unwrapEffect(Effect.map(OtelTracer.make, (inner) => Layer.setTracer(safeTracer(inner))))
  return Layer.merge(Layer.succeed(Tracing, service), tracer).pipe(
    Layer.provide(OtelTracer.layerTracer),
    Layer.provide(
      // The gateway flushes within its shutdown grace first (`flush`); this bounds what is left.
      NodeSdk.layerTracerProvider(processor, {
        sampler: SafeSpans.sampler(settings.sampler, settings.samplerRatio),
        shutdownTimeout: Duration.millis(250)
      })
    ),
    Layer.provide(
      Resource.layer({
        serviceName: settings.serviceName,
        serviceVersion: Cli.version,
        attributes: settings.resourceAttributes
      })
    )
  )
}

/**
 * Tracing from the settings: none turns Effect's tracer off.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (settings: Option.Option<Settings>): Layer.Layer<Tracing> =>
  Option.match(settings, { onNone: () => off, onSome: on })

const knownMethods = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"])

/**
 * Spans for what Effect does not run: the HTTP server span of a request and its GraphQL operation.
 * Undefined when tracing is off, so the HTTP layer pays nothing.
 *
 * @since 0.1.0
 * @category models
 */
export interface RequestTracer {
  /** Starts the server span of `request` on `route`, continuing its `traceparent`, and answers with the span's. */
  readonly startRequest: (request: IncomingMessage, response: ServerResponse, route: string) => EffectTracer.Span
  /** Ends it with the response's status; a response that did not finish was aborted. */
  readonly endRequest: (span: EffectTracer.Span, status: number, finished: boolean) => void
  /** Starts a GraphQL operation's span under `parent`. */
  readonly startOperation: (parent: EffectTracer.Span, type: string) => EffectTracer.Span
  /** Ends it with the refresh outcome and the first error's `extensions.code`, if any. */
  readonly endOperation: (span: EffectTracer.Span, outcome: string | undefined, errorCode: string | undefined) => void
}

const makeRequestTracer = (tracer: EffectTracer.Tracer, clock: Clock.Clock): RequestTracer => {
  const span = (name: string, parent: Option.Option<EffectTracer.AnySpan>, kind: EffectTracer.SpanKind) =>
    tracer.span(name, parent, Context.empty(), [], clock.unsafeCurrentTimeNanos(), kind)
  return {
    startRequest: (request, response, route) => {
      const method = knownMethods.has(request.method ?? "") ? request.method! : "_OTHER"
      const server = span(`${method} ${route}`, parseTraceparent(request.headers.traceparent), "server")
      server.attribute("http.request.method", method)
      server.attribute("http.route", route)
      server.attribute("url.path", route)
      server.attribute("url.scheme", "http")
      server.attribute("network.protocol.version", request.httpVersion)
      response.setHeader(traceparentHeader, formatTraceparent(server))
      return server
    },
    endRequest: (server, status, finished) => {
      server.attribute("http.response.status_code", status)
      server.end(
        clock.unsafeCurrentTimeNanos(),
        !finished ? Exit.interrupt(FiberId.none) : status >= 500 ? Exit.fail({ _tag: String(status) }) : Exit.void
      )
    },
    startOperation: (parent, type) => {
      const operation = span(type, Option.some(parent), "internal")
      operation.attribute("graphql.operation.type", type)
      return operation
    },
    endOperation: (operation, outcome, errorCode) => {
      if (outcome !== undefined) operation.attribute("ddn.refresh.outcome", outcome)
      operation.end(
        clock.unsafeCurrentTimeNanos(),
        errorCode === undefined ? Exit.void : Exit.fail({ _tag: errorCode })
      )
    }
  }
}

/**
 * The request tracer of a runtime's tracing; undefined when tracing is off.
 *
 * @since 0.1.0
 * @category accessors
 */
export const requestTracer: Effect.Effect<RequestTracer | undefined, never, Tracing> = Effect.flatMap(
  Tracing,
  (tracing) =>
    tracing.enabled ? Effect.zipWith(Effect.tracer, Effect.clock, makeRequestTracer) : Effect.succeed(undefined)
)

/** The state yoga carries per request, as the operation span needs it. */
interface TracedContext {
  readonly requestState?: RequestLog.RequestState
}

const operationTypes = new Set(["query", "mutation", "subscription"])

/**
 * A yoga plugin wrapping each executed operation in a span under the request's server span, which
 * the resolvers' refreshes then run under (`RequestState.operationSpan`). Only the operation's type
 * is recorded: its name, text and variables come from the client.
 *
 * @since 0.1.0
 * @category plugins
 */
export const operationPlugin = (tracer: RequestTracer): Plugin<TracedContext> => ({
  onExecute: ({ args }) => {
    const state = args.contextValue.requestState
    const parent = state?.span
    if (state === undefined || parent === undefined) return
    const definition = getOperationAST(args.document, args.operationName)
    const type = definition != null && operationTypes.has(definition.operation) ? definition.operation : "operation"
    const operation = tracer.startOperation(parent, type)
    state.operationSpan = operation
    return {
      onExecuteDone: ({ result }) => {
        const errors = "errors" in result ? result.errors : undefined
        const code = errors?.[0]?.extensions?.code
        tracer.endOperation(
          operation,
          state.outcome,
          typeof code === "string" ? code : errors?.length ? "ERROR" : undefined
        )
      }
    }
  }
})
