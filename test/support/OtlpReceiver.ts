/**
 * An OTLP/HTTP trace receiver on loopback for tests and the bench: accepts `POST /v1/traces` in
 * protobuf (decoded with the generated types that ship in `@opentelemetry/otlp-transformer`) and in
 * JSON, keeps every raw body (to search the exact bytes that left the gateway) and the spans decoded
 * into one flat shape. It can also answer 503 or never answer, as a collector that is down or hung.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import { createRequire } from "node:module"
import * as Loopback from "./Loopback.js"

/** One span as a test looks at it. */
export interface ReceivedSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string
  readonly name: string
  /** OTLP `SpanKind`: 1 internal, 2 server, 3 client. */
  readonly kind: number
  readonly startNanos: bigint
  readonly endNanos: bigint
  readonly attributes: Readonly<Record<string, unknown>>
  readonly events: ReadonlyArray<{
    readonly name: string
    readonly timeNanos: bigint
    readonly attributes: Readonly<Record<string, unknown>>
  }>
  /** OTLP `StatusCode`: 0 unset, 1 ok, 2 error. */
  readonly status: { readonly code: number; readonly message: string }
  readonly resource: Readonly<Record<string, unknown>>
}

/** How the receiver answers. */
export type Mode = "accept" | "fail" | "hang"

/** A running receiver. */
export interface OtlpReceiver {
  /** `http://127.0.0.1:<port>`: an `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  readonly url: string
  readonly spans: () => ReadonlyArray<ReceivedSpan>
  /** Every request body received, as it arrived. */
  readonly bodies: () => ReadonlyArray<Buffer>
  /** The `content-type` of every request. */
  readonly contentTypes: () => ReadonlyArray<string>
  /** Requests received, whatever the mode. */
  readonly requests: () => number
  readonly setMode: (mode: Mode) => void
  readonly clear: () => void
  /** Resolves once `predicate` holds for the spans received, or rejects after `timeoutMs`. */
  readonly waitFor: (
    predicate: (spans: ReadonlyArray<ReceivedSpan>) => boolean,
    timeoutMs?: number
  ) => Promise<ReadonlyArray<ReceivedSpan>>
  readonly stop: () => Promise<void>
}

// biome-ignore lint/suspicious/noExplicitAny: the generated protobuf root is untyped CommonJS
const root: any = createRequire(import.meta.url)("@opentelemetry/otlp-transformer/build/src/generated/root.js")
const ExportTraceServiceRequest = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest

// biome-ignore lint/suspicious/noExplicitAny: OTLP AnyValue in either encoding
const anyValue = (value: any): unknown => {
  if (value == null) return undefined
  if ("stringValue" in value) return value.stringValue
  if ("boolValue" in value) return value.boolValue
  if ("intValue" in value) return Number(value.intValue)
  if ("doubleValue" in value) return value.doubleValue
  if ("arrayValue" in value) return (value.arrayValue.values ?? []).map(anyValue)
  if ("bytesValue" in value) return value.bytesValue
  return undefined
}

// biome-ignore lint/suspicious/noExplicitAny: OTLP KeyValue list in either encoding
const attributesOf = (list: any): Record<string, unknown> =>
  Object.fromEntries((list ?? []).map((entry: { key: string; value: unknown }) => [entry.key, anyValue(entry.value)]))

/** Ids arrive as base64 from protobuf's `toObject`, as hex in OTLP/JSON. */
const hexId = (value: unknown, json: boolean): string =>
  typeof value !== "string" || value === "" ? "" : json ? value : Buffer.from(value, "base64").toString("hex")

// biome-ignore lint/suspicious/noExplicitAny: the OTLP request in object form
const spansOf = (request: any, json: boolean): Array<ReceivedSpan> =>
  (request.resourceSpans ?? []).flatMap(
    // biome-ignore lint/suspicious/noExplicitAny: OTLP ResourceSpans
    (resourceSpans: any) => {
      const resource = attributesOf(resourceSpans.resource?.attributes)
      // biome-ignore lint/suspicious/noExplicitAny: OTLP ScopeSpans and Span
      return (resourceSpans.scopeSpans ?? []).flatMap((scope: any) =>
        // biome-ignore lint/suspicious/noExplicitAny: OTLP Span
        (scope.spans ?? []).map((span: any) => ({
          traceId: hexId(span.traceId, json),
          spanId: hexId(span.spanId, json),
          parentSpanId: hexId(span.parentSpanId, json),
          name: span.name,
          kind: typeof span.kind === "number" ? span.kind : Number(span.kind ?? 0),
          startNanos: BigInt(span.startTimeUnixNano ?? 0),
          endNanos: BigInt(span.endTimeUnixNano ?? 0),
          attributes: attributesOf(span.attributes),
          // biome-ignore lint/suspicious/noExplicitAny: OTLP Event
          events: (span.events ?? []).map((event: any) => ({
            name: event.name,
            timeNanos: BigInt(event.timeUnixNano ?? 0),
            attributes: attributesOf(event.attributes)
          })),
          status: { code: Number(span.status?.code ?? 0), message: span.status?.message ?? "" },
          resource
        }))
      )
    }
  )

const decode = (body: Buffer, contentType: string): Array<ReceivedSpan> => {
  if (contentType.startsWith("application/json")) return spansOf(JSON.parse(body.toString("utf8")), true)
  const message = ExportTraceServiceRequest.decode(body)
  return spansOf(
    ExportTraceServiceRequest.toObject(message, { longs: String, bytes: String, enums: Number, defaults: false }),
    false
  )
}

/**
 * Starts a receiver on a free loopback port. With `keep: false` it only answers and counts (for the
 * bench: nothing decoded, nothing kept).
 */
export const start = (initial: Mode = "accept", options: { readonly keep?: boolean } = {}): Promise<OtlpReceiver> => {
  const keep = options.keep ?? true
  let mode = initial
  let requests = 0
  const spans: Array<ReceivedSpan> = []
  const bodies: Array<Buffer> = []
  const contentTypes: Array<string> = []
  const hung = new Set<ServerResponse>()

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => {
      if (keep) chunks.push(chunk)
    })
    request.on("end", () => {
      requests += 1
      if (mode === "hang") return void hung.add(response)
      if (mode === "fail") {
        response.statusCode = 503
        return void response.end()
      }
      const contentType = request.headers["content-type"] ?? ""
      if (!keep) {
        response.statusCode = 200
        return void response.end()
      }
      const body = Buffer.concat(chunks)
      bodies.push(body)
      contentTypes.push(contentType)
      try {
        spans.push(...decode(body, contentType))
      } catch {
        response.statusCode = 400
        return void response.end()
      }
      response.statusCode = 200
      response.setHeader(
        "content-type",
        contentType.startsWith("application/json") ? "application/json" : "application/x-protobuf"
      )
      response.end(contentType.startsWith("application/json") ? "{}" : "")
    })
  })

  return Loopback.listen(server).then(
    (listening): OtlpReceiver => ({
      url: listening.url,
      spans: () => spans,
      bodies: () => bodies,
      contentTypes: () => contentTypes,
      requests: () => requests,
      setMode: (next) => {
        mode = next
      },
      clear: () => {
        spans.length = 0
        bodies.length = 0
        contentTypes.length = 0
      },
      waitFor: async (predicate, timeoutMs = 10_000) => {
        const deadline = Date.now() + timeoutMs
        while (!predicate(spans)) {
          if (Date.now() > deadline)
            throw new Error(`no such spans within ${timeoutMs} ms: ${spans.map((s) => s.name).join(", ")}`)
          await new Promise((wait) => setTimeout(wait, 20))
        }
        return spans
      },
      stop: () => {
        for (const response of hung) response.destroy()
        return listening.stop()
      }
    })
  )
}
