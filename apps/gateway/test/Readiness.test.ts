import type * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { describe, expect, it } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import * as Tracer from "effect/Tracer"
import * as Readiness from "../src/Readiness.js"

/**
 * DDN as an `HttpClient` that counts its calls, keeps the requests, and answers `status` (400, as
 * DDN does to an empty token, unless a test changes it) after `latency` on the clock; `"unreachable"`
 * fails as a connection error would.
 */
const countingDdn = (latency = Duration.zero) => {
  const state = {
    calls: 0,
    status: 400 as number | "unreachable",
    requests: [] as Array<HttpClientRequest.HttpClientRequest>
  }
  const client = HttpClient.make((request) =>
    Effect.suspend(() => {
      state.calls += 1
      state.requests.push(request)
      const status = state.status
      return Effect.zipRight(
        Effect.sleep(latency),
        status === "unreachable"
          ? Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport" }))
          : Effect.succeed(HttpClientResponse.fromWeb(request, new Response("{}", { status })))
      )
    })
  )
  return { state, provide: Effect.provideService(HttpClient.HttpClient, client) }
}

describe("Readiness", () => {
  it.effect("probes at most once per interval and answers from the last result meanwhile", () =>
    Effect.gen(function* () {
      const ddn = countingDdn()
      const check = yield* ddn.provide(Readiness.make({ apiUrl: "http://ddn.invalid" }))
      for (let i = 0; i < 1_000; i++) expect((yield* check).ready).toBe(true)
      expect(ddn.state.calls).toBe(1)

      ddn.state.status = 503
      yield* TestClock.adjust(Duration.millis(4_999))
      expect((yield* check).ready).toBe(true)
      expect(ddn.state.calls).toBe(1)

      yield* TestClock.adjust(Duration.millis(1))
      const report = yield* check
      expect(report).toEqual({ ready: false, body: { status: "upstream_unavailable" } })
      expect(ddn.state.calls).toBe(2)
    })
  )

  it.effect("shares one probe in flight among concurrent checks", () =>
    Effect.gen(function* () {
      const ddn = countingDdn(Duration.seconds(1))
      const check = yield* ddn.provide(Readiness.make({ apiUrl: "http://ddn.invalid" }))
      const checks = yield* Effect.fork(
        Effect.all(
          Array.from({ length: 50 }, () => check),
          { concurrency: "unbounded" }
        )
      )
      yield* TestClock.adjust(Duration.seconds(1))
      const reports = yield* Fiber.join(checks)
      expect(reports.every((report) => report.ready)).toBe(true)
      expect(ddn.state.calls).toBe(1)
    })
  )

  it.effect("adds each member's field to the body, read on every call", () =>
    Effect.gen(function* () {
      let mode = "memory"
      const check = yield* countingDdn().provide(
        Readiness.make({ apiUrl: "http://ddn.invalid", members: [{ name: "coordination", read: () => mode }] })
      )
      expect((yield* check).body).toEqual({ status: "ready", coordination: "memory" })
      mode = "degraded"
      expect((yield* check).body).toEqual({ status: "ready", coordination: "degraded" })
    })
  )

  it.effect("the probe: an empty token POSTed to the refresh endpoint, untraced, ready below 500 only", () =>
    Effect.gen(function* () {
      const ddn = countingDdn()
      const probe = ddn.provide(Readiness.probe("http://ddn.invalid/api/"))
      // Under a span, as a request's would be: none of its context may reach DDN, and the probe
      // makes no span of its own.
      const spans: Array<string> = []
      const tracer = yield* Effect.tracer
      const recording = Tracer.make({
        span: (name, ...rest) => {
          spans.push(name)
          return tracer.span(name, ...rest)
        },
        context: tracer.context
      })
      expect(yield* Effect.withTracer(Effect.withSpan(probe, "request"), recording)).toBe(true)
      expect(spans).toEqual(["request"])
      expect(ddn.state.requests).toHaveLength(1)
      const request = ddn.state.requests[0]!
      expect(request.method).toBe("POST")
      expect(request.url).toBe("http://ddn.invalid/api/gateway/auth/refresh")
      expect(request.body).toMatchObject({ _tag: "Uint8Array", contentType: "application/json" })
      expect(new TextDecoder().decode((request.body as HttpBody.Uint8Array).body)).toBe('{"refreshToken":""}')
      expect(Object.keys(request.headers).sort()).toEqual(["accept", "content-length", "content-type"])

      for (const [status, ready] of [
        [401, true],
        [429, true],
        [499, true],
        [500, false],
        [503, false],
        ["unreachable", false]
      ] as const) {
        ddn.state.status = status
        expect(yield* probe, String(status)).toBe(ready)
      }
    })
  )

  it.effect("the probe: silence past the timeout (2 s) is not ready", () =>
    Effect.gen(function* () {
      const ddn = countingDdn(Duration.seconds(3))
      const probing = yield* Effect.fork(ddn.provide(Readiness.probe("http://ddn.invalid")))
      yield* TestClock.adjust(Duration.seconds(2))
      expect(yield* Fiber.join(probing)).toBe(false)
    })
  )

  it("the upstream member: the circuit and calls in flight, and while paused when the pause ends and the seconds left", () => {
    const status = { circuit: "closed", pausedUntil: Option.none(), inFlight: 3, maxInFlight: 256 } as const
    expect(Readiness.upstreamMember(status, 0)).toEqual({ circuit: "closed", inFlight: 3, maxInFlight: 256 })
    const paused = { ...status, circuit: "open" as const, pausedUntil: Option.some(DateTime.unsafeMake(12_500)) }
    expect(Readiness.upstreamMember(paused, 10_000)).toEqual({
      circuit: "open",
      inFlight: 3,
      maxInFlight: 256,
      pausedUntil: "1970-01-01T00:00:12.500Z",
      pausedForSeconds: 3
    })
  })
})
