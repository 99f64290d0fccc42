import { describe, expect, it } from "@effect/vitest"
import { SpanKind, SpanStatusCode } from "@opentelemetry/api"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as EffectTracer from "effect/Tracer"
import * as GatewayConfig from "../src/GatewayConfig.js"
import * as SafeSpans from "../src/internal/safeSpans.js"
import * as Tracing from "../src/Tracing.js"

const load = (env: Record<string, string>) => GatewayConfig.fromEnv(env)
const tracing = (env: Record<string, string>) => Option.getOrThrow(Either.getOrThrow(load(env)).tracing)
const errorLine = (env: Record<string, string>) => Either.getLeft(load(env)).pipe(Option.getOrThrow)

describe("tracing settings", () => {
  it("are off without an endpoint, whatever else is set", () => {
    expect(Either.getOrThrow(load({ OTEL_SERVICE_NAME: "x", OTEL_TRACES_SAMPLER: "always_on" })).tracing).toEqual(
      Option.none()
    )
  })

  it("append /v1/traces to OTEL_EXPORTER_OTLP_ENDPOINT; the traces endpoint is used as is and wins", () => {
    expect(tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" }).url.href).toBe(
      "http://collector:4318/v1/traces"
    )
    expect(
      tracing({
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://traces.example.com/otlp"
      }).url.href
    ).toBe("https://traces.example.com/otlp")
  })

  it("have the standard defaults", () => {
    const settings = tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://localhost:4318" })
    expect(settings).toMatchObject({
      protocol: "http/protobuf",
      serviceName: "ddn-gateway",
      resourceAttributes: {},
      sampler: "parentbased_always_on",
      samplerRatio: 1,
      maxQueueSize: 2048,
      maxExportBatchSize: 512
    })
    expect(Duration.toMillis(settings.scheduledDelay)).toBe(5000)
    expect(Duration.toMillis(settings.exportTimeout)).toBe(30000)
  })

  it("read headers and resource attributes as key=value lists, headers redacted", () => {
    const settings = tracing({
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://localhost:4318",
      OTEL_EXPORTER_OTLP_HEADERS: "x-api-key=s3cr%3Dt, other = two",
      OTEL_RESOURCE_ATTRIBUTES: "deployment.environment.name=prod,service.namespace=auth"
    })
    expect(Redacted.value(settings.headers)).toEqual({ "x-api-key": "s3cr=t", other: "two" })
    expect(String(settings.headers)).not.toContain("s3cr")
    expect(settings.resourceAttributes).toEqual({ "deployment.environment.name": "prod", "service.namespace": "auth" })
  })

  it("refuse bad values in one line naming the variable, never echoing a header or an endpoint", () => {
    const base = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://localhost:4318" }
    expect(errorLine({ ...base, OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" })).toMatch(
      /^Invalid OTEL_EXPORTER_OTLP_PROTOCOL: /
    )
    expect(errorLine({ ...base, OTEL_TRACES_SAMPLER: "sometimes" })).toMatch(/^Invalid OTEL_TRACES_SAMPLER: /)
    expect(errorLine({ ...base, OTEL_TRACES_SAMPLER_ARG: "1.5" })).toMatch(/^Invalid OTEL_TRACES_SAMPLER_ARG: /)
    expect(errorLine({ ...base, OTEL_BSP_MAX_QUEUE_SIZE: "0" })).toMatch(/^Invalid OTEL_BSP_MAX_QUEUE_SIZE: /)
    expect(errorLine({ ...base, OTEL_BSP_MAX_QUEUE_SIZE: "10", OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "20" })).toMatch(
      /^Invalid OTEL_BSP_MAX_EXPORT_BATCH_SIZE: /
    )
    const header = errorLine({ ...base, OTEL_EXPORTER_OTLP_HEADERS: "secret-value-without-equals" })
    expect(header).toMatch(/^Invalid OTEL_EXPORTER_OTLP_HEADERS: /)
    expect(header).not.toContain("secret-value")
    const endpoint = errorLine({ OTEL_EXPORTER_OTLP_ENDPOINT: "ftp://user:pw@host" })
    expect(endpoint).toMatch(/^Invalid OTEL_EXPORTER_OTLP_ENDPOINT: /)
    expect(endpoint).not.toContain("pw")
    expect(errorLine({ OTEL_EXPORTER_OTLP_ENDPOINT: "" })).toMatch(
      /^Invalid OTEL_EXPORTER_OTLP_ENDPOINT: must not be empty/
    )
  })
})

describe("traceparent", () => {
  it("continues a well-formed W3C parent, sampled or not", () => {
    const parent = Option.getOrThrow(
      Tracing.parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    )
    expect(parent).toMatchObject({
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      sampled: true
    })
    expect(
      Tracing.parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00").pipe(Option.getOrThrow)
        .sampled
    ).toBe(false)
    // A later version is read as 00, extra fields aside.
    expect(
      Option.isSome(Tracing.parseTraceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what"))
    ).toBe(true)
  })

  it.each([
    undefined,
    "",
    "garbage",
    "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
    "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"
  ])("ignores %j", (header) => {
    expect(Tracing.parseTraceparent(header)).toEqual(Option.none())
  })
})

const readable = (overrides: Partial<ReadableSpan>): ReadableSpan =>
  ({
    name: "span",
    kind: SpanKind.INTERNAL,
    spanContext: () => ({ traceId: "1".repeat(32), spanId: "2".repeat(16), traceFlags: 1 }),
    startTime: [0, 0],
    endTime: [0, 0],
    status: { code: SpanStatusCode.UNSET },
    attributes: {},
    links: [],
    events: [],
    duration: [0, 0],
    ended: true,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
    ...overrides
  }) as unknown as ReadableSpan

describe("what is exported", () => {
  it("never a header value, a URL's credentials or query, a message or a stack", () => {
    const safe = SafeSpans.sanitize(
      readable({
        kind: SpanKind.CLIENT,
        status: { code: SpanStatusCode.ERROR, message: "failed for token abc" },
        attributes: {
          "http.request.header.authorization": "Bearer abc",
          "http.response.header.set-cookie": "abc",
          "url.full": "https://user:pw@ddn.example.com/gateway/auth/refresh?token=abc#x",
          "url.query": "token=abc",
          "code.stacktrace": "at abc",
          "http.response.status_code": 502
        },
        events: [
          {
            name: "exception",
            time: [0, 0],
            attributes: { "exception.type": "Oops", "exception.message": "abc", "exception.stacktrace": "abc" }
          }
        ],
        links: [
          { context: { traceId: "3".repeat(32), spanId: "4".repeat(16), traceFlags: 1 }, attributes: { k: "abc" } }
        ]
      })
    )
    expect(JSON.stringify(safe)).not.toContain("abc")
    expect(JSON.stringify(safe)).not.toContain("pw")
    expect(safe.attributes).toEqual({
      "url.full": "https://ddn.example.com/gateway/auth/refresh",
      "http.response.status_code": 502,
      "error.type": "502"
    })
    expect(safe.status).toEqual({ code: SpanStatusCode.ERROR })
    expect(safe.events).toEqual([{ name: "exception", time: [0, 0], attributes: { "exception.type": "Oops" } }])
  })

  const recording = () => {
    const attributes: Record<string, unknown> = {}
    return {
      attributes,
      span: { attribute: (key: string, value: unknown) => (attributes[key] = value) } as unknown as EffectTracer.Span
    }
  }

  it("an error is its tag and code fields, never its message", () => {
    const { attributes, span } = recording()
    const error = { _tag: "UpstreamUnavailable", reason: "Timeout", attempts: 3, status: 503, message: "token abc" }
    const exit = SafeSpans.safeExit(span, Exit.fail(error))
    expect(attributes).toEqual({
      "error.type": "UpstreamUnavailable",
      "ddn.error.reason": "Timeout",
      "ddn.error.status": 503,
      "ddn.error.attempts": 3
    })
    const failure = Option.getOrThrow(Cause.failureOption((exit as Exit.Failure<unknown, Error>).cause)) as Error
    expect(failure.message).toBe("UpstreamUnavailable")
    expect(failure.stack).toBe("UpstreamUnavailable")
  })

  it("a defect is its class name; a reason that is not an identifier is left out", () => {
    const { attributes, span } = recording()
    SafeSpans.safeExit(span, Exit.die(new TypeError("input abc")))
    expect(attributes).toEqual({ "error.type": "Defect.TypeError" })
    const other = recording()
    SafeSpans.safeExit(other.span, Exit.fail({ _tag: "Bad", reason: "has spaces abc" }))
    expect(other.attributes).toEqual({ "error.type": "Bad" })
  })

  it("success and interruption pass as they are", () => {
    const { attributes, span } = recording()
    expect(SafeSpans.safeExit(span, Exit.void)).toEqual(Exit.void)
    expect(Exit.isInterrupted(SafeSpans.safeExit(span, Exit.interrupt(FiberId.none)))).toBe(true)
    expect(attributes).toEqual({})
  })
})
