/**
 * What leaves the process in a span, decided in two places: the Effect tracer ends every span with
 * an exit that names the error by its tag and code fields only ({@link safeExit}), and the exporter
 * sends a copy of each span without header attributes, credentials in URLs, exception messages,
 * stack traces or status messages ({@link sanitize}). A token, a GraphQL variable, a header value or
 * a request body never reaches either: no code puts one on a span, and these two would drop it.
 *
 * @internal
 */
import { type Attributes, type AttributeValue, SpanKind, SpanStatusCode } from "@opentelemetry/api"
import { type ExportResult, ExportResultCode } from "@opentelemetry/core"
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  type ReadableSpan,
  type Sampler,
  type SpanExporter,
  type SpanProcessor,
  TraceIdRatioBasedSampler
} from "@opentelemetry/sdk-trace-base"
import * as Cause from "effect/Cause"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import type * as Tracer from "effect/Tracer"

/** Attributes never exported: header values (the HTTP client records them) and stack traces. */
const droppedAttribute = (key: string) =>
  key.startsWith("http.request.header.") ||
  key.startsWith("http.response.header.") ||
  key === "code.stacktrace" ||
  key === "exception.message" ||
  key === "exception.stacktrace"

/** A URL without credentials, query or fragment (semantic conventions: `url.full` is redacted). */
const withoutSecrets = (value: AttributeValue | undefined): AttributeValue | undefined => {
  if (typeof value !== "string" || !URL.canParse(value)) return undefined
  const url = new URL(value)
  return `${url.protocol}//${url.host}${url.pathname}`
}

const safeAttributes = (attributes: Attributes): Attributes => {
  const safe: Attributes = {}
  for (const key in attributes) {
    if (droppedAttribute(key)) continue
    if (key === "url.query") continue
    const value = key === "url.full" ? withoutSecrets(attributes[key]) : attributes[key]
    if (value !== undefined) safe[key] = value
  }
  return safe
}

/**
 * A copy of `span` fit to export: header, query, stack and message attributes dropped, `url.full`
 * reduced to origin and path, exception events reduced to `exception.type`, the status message
 * dropped, link attributes dropped.
 */
export const sanitize = (span: ReadableSpan): ReadableSpan => {
  const attributes = safeAttributes(span.attributes)
  const status = attributes["http.response.status_code"]
  // Semantic conventions: a client span whose response is 4xx or 5xx is an error of that status.
  const failedCall = span.kind === SpanKind.CLIENT && typeof status === "number" && status >= 400
  if (failedCall && attributes["error.type"] === undefined) attributes["error.type"] = String(status)
  return {
    name: span.name,
    kind: span.kind,
    spanContext: () => span.spanContext(),
    ...(span.parentSpanContext === undefined ? {} : { parentSpanContext: span.parentSpanContext }),
    startTime: span.startTime,
    endTime: span.endTime,
    status: { code: failedCall ? SpanStatusCode.ERROR : span.status.code },
    attributes,
    links: span.links.map((link) => ({ context: link.context })),
    events: span.events.map((event) =>
      event.name === "exception" || event.attributes?.["exception.type"] !== undefined
        ? {
            name: "exception",
            time: event.time,
            attributes: { "exception.type": event.attributes?.["exception.type"] ?? "" }
          }
        : { name: event.name, time: event.time, attributes: safeAttributes(event.attributes ?? {}) }
    ),
    duration: span.duration,
    ended: span.ended,
    resource: span.resource,
    instrumentationScope: span.instrumentationScope,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount
  }
}

/** An identifier-like value only (a tag, a reason, a code): anything else could be input. */
const identifier = (value: unknown): string | undefined =>
  typeof value === "string" && /^\w[\w.-]{0,63}$/.test(value) ? value : undefined

/** The error a span ends with: only its tag, as its name and message. */
class SpanError extends Error {
  constructor(tag: string) {
    super(tag)
    this.name = tag
    this.stack = tag
  }
}

/**
 * The exit a span is ended with: a failure becomes its tag alone (`error.type`), with the error's
 * code fields as attributes (`ddn.error.reason` from `reason` or `kind`, `ddn.error.status`,
 * `ddn.error.attempts`); never the error's message, which may quote input.
 */
export const safeExit = (span: Tracer.Span, exit: Exit.Exit<unknown, unknown>): Exit.Exit<unknown, unknown> => {
  if (Exit.isSuccess(exit) || Cause.isInterruptedOnly(exit.cause)) return exit
  const failure = Option.getOrUndefined(Cause.failureOption(exit.cause))
  const defect = failure === undefined ? Cause.squash(exit.cause) : undefined
  const error = (failure ?? defect) as Record<string, unknown> | undefined
  const tag =
    identifier(error?._tag) ??
    (failure === undefined ? `Defect.${identifier((defect as Error | undefined)?.name) ?? "Unknown"}` : "Failure")
  span.attribute("error.type", tag)
  if (error !== undefined && failure !== undefined) {
    const reason = identifier(error.reason) ?? identifier(error.kind)
    if (reason !== undefined) span.attribute("ddn.error.reason", reason)
    if (typeof error.status === "number") span.attribute("ddn.error.status", error.status)
    if (typeof error.attempts === "number") span.attribute("ddn.error.attempts", error.attempts)
  }
  return Exit.fail(new SpanError(tag))
}

/** How many spans were dropped, and why: the export queue was full, or the export failed. */
export interface DropCounter {
  readonly queueFull: (spans: number) => void
  readonly exportFailed: (spans: number) => void
}

/**
 * The exporter that ships {@link sanitize}d copies, counting the spans of every failed export as
 * dropped, and settling `pending` once each export is over.
 */
export const safeExporter = (
  exporter: SpanExporter,
  drops: DropCounter,
  settled: (spans: number) => void
): SpanExporter => ({
  export: (spans, resultCallback) => {
    let done = false
    const finish = (result: ExportResult) => {
      if (done) return
      done = true
      settled(spans.length)
      if (result.code !== ExportResultCode.SUCCESS) drops.exportFailed(spans.length)
      resultCallback(result)
    }
    try {
      exporter.export(spans.map(sanitize), finish)
    } catch (error) {
      finish({ code: ExportResultCode.FAILED, error: error as Error })
    }
  },
  shutdown: () => exporter.shutdown(),
  forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve()
})

/**
 * A span processor in front of the SDK's batch processor that never lets more than `maxQueueSize`
 * spans wait (queued or being exported): beyond that a span is dropped and counted, so a collector
 * that is down or slow costs memory that is bounded and requests nothing. Unsampled spans are not
 * queued at all.
 */
export const boundedProcessor = (
  maxQueueSize: number,
  drops: DropCounter,
  makeBatch: (exporter: (inner: SpanExporter) => SpanExporter) => SpanProcessor
): SpanProcessor => {
  let pending = 0
  const batch = makeBatch((inner) =>
    safeExporter(inner, drops, (spans) => {
      pending = Math.max(0, pending - spans)
    })
  )
  return {
    onStart: (span, context) => batch.onStart(span, context),
    onEnd: (span: ReadableSpan) => {
      if ((span.spanContext().traceFlags & 1) === 0) return
      if (pending >= maxQueueSize) return drops.queueFull(1)
      pending += 1
      batch.onEnd(span)
    },
    forceFlush: () => batch.forceFlush(),
    shutdown: () => batch.shutdown()
  }
}

/** The SDK's samplers by their `OTEL_TRACES_SAMPLER` names. */
export const sampler = (name: string, ratio: number): Sampler => {
  const root = name.endsWith("always_off")
    ? new AlwaysOffSampler()
    : name.endsWith("traceidratio")
      ? new TraceIdRatioBasedSampler(ratio)
      : new AlwaysOnSampler()
  return name.startsWith("parentbased_") ? new ParentBasedSampler({ root }) : root
}
