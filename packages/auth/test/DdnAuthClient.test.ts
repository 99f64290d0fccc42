import { describe, expect, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as Tracer from "effect/Tracer"
import * as Client from "../src/DdnAuthClient.js"
import { DdnAuthClient } from "../src/DdnAuthClient.js"
import type { RefreshError } from "../src/RefreshError.js"
import * as RefreshMetrics from "../src/RefreshMetrics.js"
import type { TokenGrant } from "../src/TokenGrant.js"
import { failure, failureTag } from "./utils/exits.js"
import { awaitBlocked } from "./utils/fibers.js"
import { grantBody, mockUpstream, type Step } from "./utils/MockUpstream.js"

const token = Redacted.make("rt-original")

/** A 429 asking for a pause of `seconds`, then a grant. */
const rateLimitedFor = (seconds: number): ReadonlyArray<Step> => [
  { status: 429, headers: { "retry-after": String(seconds) } },
  { status: 200, body: grantBody() }
]

/** Runs `body` with a client over a {@link mockUpstream} of `steps`. */
const withClient = <A, E>(
  steps: ReadonlyArray<Step>,
  body: (client: Client.Service, upstream: ReturnType<typeof mockUpstream>) => Effect.Effect<A, E>,
  options: Partial<Client.Options> = {}
) => {
  const upstream = mockUpstream(...steps)
  return Effect.flatMap(DdnAuthClient, (client) => body(client, upstream)).pipe(
    Effect.provide(Client.layer({ apiUrl: "http://ddn.test", ...options }).pipe(Layer.provide(upstream.layer)))
  )
}

/** Runs `body` with one refresh over `steps` forked, to follow on the TestClock. */
const whileRefreshing = <A, E>(
  steps: ReadonlyArray<Step>,
  body: (
    refresh: Fiber.RuntimeFiber<TokenGrant, RefreshError>,
    upstream: ReturnType<typeof mockUpstream>
  ) => Effect.Effect<A, E>,
  options: Partial<Client.Options> = {}
) =>
  withClient(
    steps,
    (client, upstream) => Effect.flatMap(Effect.fork(client.refresh(token)), (fiber) => body(fiber, upstream)),
    options
  )

/** Runs one refresh against scripted steps, advancing the TestClock far enough for every retry and deadline. */
const refreshWith = (steps: ReadonlyArray<Step>, options: Partial<Client.Options> = {}) =>
  whileRefreshing(
    steps,
    (fiber, upstream) =>
      Effect.zipRight(
        TestClock.adjust("30 seconds"),
        Effect.map(Fiber.await(fiber), (exit) => ({ exit, calls: upstream.calls }))
      ),
    options
  )

describe("DdnAuthClient", () => {
  it.effect("200: decodes a redacted grant and sends the documented request", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(1_000_000)
      const { exit, calls } = yield* refreshWith([{ status: 200, body: grantBody() }])
      const grant = yield* exit
      expect(Redacted.value(grant.accessToken)).toBe("access-1")
      expect(Redacted.value(grant.refreshToken)).toBe("refresh-1")
      expect(grant.expiresIn).toBe(3600)
      expect(grant.tokenType).toBe("Bearer")
      expect(DateTime.toEpochMillis(grant.expiresAt)).toBe(1_000_000 + 3_600_000)
      expect(String(grant)).not.toContain("access-1")
      expect(calls).toHaveLength(1)
      expect(calls[0]!.method).toBe("POST")
      expect(calls[0]!.url).toBe("http://ddn.test/gateway/auth/refresh")
      expect(calls[0]!.headers["content-type"]).toBe("application/json")
      expect(calls[0]!.headers.accept).toBe("application/json")
      expect(calls[0]!.body).toEqual({ refreshToken: "rt-original" })
    })
  )

  it.effect("expiresAt comes from the Clock at arrival, not from the upstream's clock", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(5_000)
      const { exit } = yield* refreshWith([
        { status: 200, body: { ...grantBody(), expiresIn: 60 }, headers: { date: "Thu, 01 Jan 2099 00:00:00 GMT" } }
      ])
      const grant = yield* exit
      expect(DateTime.toEpochMillis(grant.expiresAt)).toBe(65_000)
    })
  )

  it.effect("400 → RefreshTokenInvalid, one call", () =>
    Effect.gen(function* () {
      const { exit, calls } = yield* refreshWith([{ status: 400, body: { error: "invalid_request" } }])
      expect(failureTag(exit)).toBe("RefreshTokenInvalid")
      expect(calls).toHaveLength(1)
    })
  )

  it.effect("401 → RefreshTokenExpired, one call", () =>
    Effect.gen(function* () {
      const { exit, calls } = yield* refreshWith([{ status: 401 }])
      expect(failureTag(exit)).toBe("RefreshTokenExpired")
      expect(calls).toHaveLength(1)
    })
  )

  it.effect.each([403, 404, 405, 409, 413, 415, 422, 451])("%i is never retried", (status) =>
    Effect.gen(function* () {
      const { exit, calls } = yield* refreshWith([{ status }, { status: 200, body: grantBody() }])
      const error = failure(exit)
      expect(error).toMatchObject({ _tag: "UpstreamUnavailable", reason: "Status", status, attempts: 1 })
      expect(calls).toHaveLength(1)
    })
  )

  it.effect.each([408, 500, 502, 503, 504])("%i then success → the grant, after a retry", (status) =>
    Effect.gen(function* () {
      const { exit, calls } = yield* refreshWith([{ status }, { status: 200, body: grantBody(2) }])
      const grant = yield* exit
      expect(Redacted.value(grant.accessToken)).toBe("access-2")
      expect(calls).toHaveLength(2)
    })
  )

  it.effect("503 every time → UpstreamUnavailable after the attempt limit", () =>
    Effect.gen(function* () {
      const { exit, calls } = yield* refreshWith([{ status: 503 }])
      expect(failure(exit)).toMatchObject({ _tag: "UpstreamUnavailable", reason: "Status", status: 503, attempts: 4 })
      expect(calls).toHaveLength(4)
    })
  )

  it.effect("maxAttempts bounds the attempts", () =>
    Effect.gen(function* () {
      const { exit, calls } = yield* refreshWith([{ status: 500 }], { maxAttempts: 2 })
      expect(failure(exit)).toMatchObject({ _tag: "UpstreamUnavailable", attempts: 2 })
      expect(calls).toHaveLength(2)
    })
  )

  it.effect("429 with Retry-After waits that long, then succeeds", () =>
    whileRefreshing(rateLimitedFor(5), (fiber, upstream) =>
      Effect.gen(function* () {
        yield* TestClock.adjust("4 seconds")
        expect(upstream.calls).toHaveLength(1)
        yield* TestClock.adjust("1500 millis")
        expect(upstream.calls).toHaveLength(2)
        yield* Fiber.join(fiber)
      })
    )
  )

  it.effect("429 with an HTTP-date Retry-After is honoured relative to the Clock", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(Date.parse("2030-01-01T00:00:00Z"))
      const { exit, calls } = yield* refreshWith([
        { status: 429, headers: { "retry-after": "Tue, 01 Jan 2030 00:00:02 GMT" } },
        { status: 200, body: grantBody() }
      ])
      expect(Exit.isSuccess(exit)).toBe(true)
      expect(calls).toHaveLength(2)
    })
  )

  it.effect.each([
    ["whose Retry-After does not fit the deadline → RateLimited at once, carrying retryAfter", "120", 120, 1],
    ["without Retry-After: backoff retries, then RateLimited with a 1 s hint", undefined, 1, 4]
  ] as const)("429 %s", ([, retryAfter, hintSeconds, attempts]) =>
    Effect.gen(function* () {
      const headers: Record<string, string> = retryAfter === undefined ? {} : { "retry-after": retryAfter }
      const { exit, calls } = yield* refreshWith([{ status: 429, headers }])
      const error = failure(exit)
      expect(error._tag).toBe("RateLimited")
      if (error._tag === "RateLimited") expect(Duration.toSeconds(error.retryAfter)).toBe(hintSeconds)
      expect(calls).toHaveLength(attempts)
    })
  )

  it.effect("connection refused, then success → the grant", () =>
    Effect.gen(function* () {
      const { exit, calls } = yield* refreshWith(["refused", { status: 200, body: grantBody() }])
      expect(Exit.isSuccess(exit)).toBe(true)
      expect(calls).toHaveLength(2)
    })
  )

  it.effect("connection refused every time → UpstreamUnavailable (Transport)", () =>
    Effect.gen(function* () {
      const { exit, calls } = yield* refreshWith(["refused"])
      expect(failure(exit)).toMatchObject({ _tag: "UpstreamUnavailable", reason: "Transport", attempts: 4 })
      expect(calls).toHaveLength(4)
    })
  )

  it.effect("a per-attempt timeout aborts the attempt and retries", () =>
    whileRefreshing(["hang", { status: 200, body: grantBody() }], (fiber, upstream) =>
      Effect.gen(function* () {
        yield* TestClock.adjust("2999 millis")
        expect(upstream.calls).toHaveLength(1)
        expect(upstream.calls[0]!.signal.aborted).toBe(false)
        yield* TestClock.adjust("1 second")
        expect(upstream.calls[0]!.signal.aborted).toBe(true)
        expect(upstream.calls).toHaveLength(2)
        yield* Fiber.join(fiber)
      })
    )
  )

  it.effect("the overall deadline bounds a hanging upstream", () =>
    whileRefreshing(["hang"], (fiber, upstream) =>
      Effect.gen(function* () {
        yield* TestClock.adjust("9 seconds")
        expect(fiber.unsafePoll()).toBeNull()
        yield* TestClock.adjust("1 second")
        const exit = yield* Fiber.await(fiber)
        expect(failure(exit)).toMatchObject({ _tag: "UpstreamUnavailable", reason: "Deadline" })
        expect(upstream.calls.every((call) => call.signal.aborted)).toBe(true)
      })
    )
  )

  it.effect("every timed-out attempt counts as outcome=timeout, the one cut short by the deadline included", () =>
    Effect.gen(function* () {
      const timeouts = Metric.tagged(RefreshMetrics.upstreamAttempts, "outcome", "timeout")
      const before = (yield* Metric.value(timeouts)).count
      const { exit, calls } = yield* refreshWith(["hang", "hang", "hang", "hang"])
      expect(failure(exit)).toMatchObject({ _tag: "UpstreamUnavailable", reason: "Deadline" })
      expect((yield* Metric.value(timeouts)).count - before).toBe(calls.length)
    })
  )

  it.effect("a shorter deadline wins over the attempt budget", () =>
    Effect.gen(function* () {
      const { exit, calls } = yield* refreshWith(["hang"], { deadline: "1 second" })
      expect(failure(exit)).toMatchObject({ _tag: "UpstreamUnavailable", reason: "Deadline", attempts: 1 })
      expect(calls).toHaveLength(1)
    })
  )

  it.effect.each([
    ["not JSON", { raw: "<html>oops</html>" }, "body: not JSON"],
    ["wrong types", { status: 200, body: { ...grantBody(), expiresIn: "soon" } }, "expiresIn: Type"],
    [
      "missing field",
      { status: 200, body: { accessToken: "a", expiresIn: 1, tokenType: "Bearer" } },
      "refreshToken: Missing"
    ],
    ["empty token", { status: 200, body: { ...grantBody(), accessToken: "" } }, "accessToken: Refinement"],
    ["negative expiresIn", { status: 200, body: { ...grantBody(), expiresIn: -5 } }, "expiresIn: Refinement"],
    ["an array", { status: 200, body: [grantBody()] }, "body: Type"],
    ["201 empty body", { status: 201 }, "body: Type"]
  ] as const)("2xx with %s → UpstreamBadResponse, not retried", ([, step, issue]) =>
    Effect.gen(function* () {
      const { exit, calls } = yield* refreshWith([step as Step, { status: 200, body: grantBody() }])
      const error = failure(exit)
      expect(error._tag).toBe("UpstreamBadResponse")
      if (error._tag === "UpstreamBadResponse") expect(error.issues).toContain(issue)
      expect(calls).toHaveLength(1)
    })
  )

  it.effect("interrupting the caller aborts the request in flight", () =>
    whileRefreshing(["hang"], (fiber, upstream) =>
      Effect.gen(function* () {
        yield* TestClock.adjust("10 millis")
        expect(upstream.calls).toHaveLength(1)
        yield* Fiber.interrupt(fiber)
        expect(upstream.calls[0]!.signal.aborted).toBe(true)
        yield* TestClock.adjust("30 seconds")
        expect(upstream.calls).toHaveLength(1)
      })
    )
  )

  it.effect.each([
    ["empty", "", "Empty"],
    ["blank", "   ", "Empty"],
    ["over 8 KiB", "x".repeat(8 * 1024 + 1), "TooLong"],
    ["over 8 KiB in UTF-8", "é".repeat(4097), "TooLong"],
    ["a newline", "abc\ndef", "ControlCharacters"],
    ["a NUL", "abc\u0000", "ControlCharacters"],
    ["DEL", "abc\u007f", "ControlCharacters"],
    ["a C1 control", "abc\u0085", "ControlCharacters"]
  ] as const)("InvalidInput for %s makes no call", ([, input, reason]) =>
    withClient([{ status: 200, body: grantBody() }], (client, upstream) =>
      Effect.gen(function* () {
        expect(failure(yield* Effect.exit(client.refresh(Redacted.make(input))))).toMatchObject({
          _tag: "InvalidInput",
          reason
        })
        expect(upstream.calls).toHaveLength(0)
      })
    )
  )

  it.effect("a refresh is a DdnAuthClient.refresh span over the http.client span; no trace context reaches DDN", () =>
    Effect.gen(function* () {
      const upstream = mockUpstream({ status: 200, body: grantBody() })
      const native = yield* Effect.tracer
      const spans: Array<Tracer.Span> = []
      const recording = Tracer.make({
        span: (...args) => {
          const span = native.span(...args)
          spans.push(span)
          return span
        },
        context: native.context
      })
      yield* Effect.flatMap(DdnAuthClient, (client) => client.refresh(token)).pipe(
        Effect.withSpan("caller"),
        Effect.withTracer(recording),
        Effect.provide(Client.layer({ apiUrl: "http://ddn.test" }).pipe(Layer.provide(upstream.layer)))
      )
      const byName = (name: string) => spans.find((span) => span.name === name)
      const caller = byName("caller")
      const refresh = byName("DdnAuthClient.refresh")
      const http = spans.find((span) => span.name.startsWith("http.client"))
      expect(refresh?.parent._tag === "Some" && refresh.parent.value.spanId).toBe(caller?.spanId)
      expect(http?.parent._tag === "Some" && http.parent.value.spanId).toBe(refresh?.spanId)
      expect(
        Object.keys(upstream.calls[0]!.headers).filter((name) => /^(traceparent|tracestate|b3)$/i.test(name))
      ).toEqual([])
    })
  )

  it.effect("exactly 8 KiB is accepted", () =>
    withClient([{ status: 200, body: grantBody() }], (client, upstream) =>
      Effect.gen(function* () {
        yield* client.refresh(Redacted.make("x".repeat(8192)))
        expect(upstream.calls).toHaveLength(1)
      })
    )
  )

  it.effect("a 401 after a lost attempt warns that the token may have been rotated", () =>
    Effect.gen(function* () {
      const lines: Array<string> = []
      const capture = Logger.replace(
        Logger.defaultLogger,
        Logger.make(({ logLevel, message }) => lines.push(`${logLevel.label} ${String(message)}`))
      )
      const { exit } = yield* refreshWith([{ status: 503 }, { status: 401 }]).pipe(Effect.provide(capture))
      expect(failureTag(exit)).toBe("RefreshTokenExpired")
      expect(lines.some((line) => line.startsWith("WARN") && line.includes("may have rotated"))).toBe(true)
    })
  )

  it.effect("a 401 after a refused connection does not warn", () =>
    Effect.gen(function* () {
      const lines: Array<string> = []
      const capture = Logger.replace(
        Logger.defaultLogger,
        Logger.make(({ message }) => lines.push(String(message)))
      )
      const { exit } = yield* refreshWith(["refused", { status: 401 }]).pipe(Effect.provide(capture))
      expect(failureTag(exit)).toBe("RefreshTokenExpired")
      expect(lines.some((line) => line.includes("may have rotated"))).toBe(false)
    })
  )

  describe("the upstream guard", () => {
    /** One refresh to its end, the TestClock moved on by 1 s (enough for the backoff of four attempts). */
    const settle = (client: Client.Service) =>
      Effect.gen(function* () {
        const fiber = yield* Effect.fork(client.refresh(token))
        yield* TestClock.adjust("1 second")
        return yield* Fiber.await(fiber)
      })

    const refusedOpen = Metric.tagged(RefreshMetrics.upstreamRefused, "reason", "open")

    it.effect(
      "20 transient failures open the breaker: refreshes then fail fast, no call; after 5 s one probe closes it",
      () =>
        withClient(
          [
            ...Array.from({ length: 20 }, () => ({ status: 503 })),
            {
              status: 200,
              body: grantBody()
            }
          ],
          (client, upstream) =>
            Effect.gen(function* () {
              const before = (yield* Metric.value(refusedOpen)).count
              for (let i = 0; i < 5; i++) yield* settle(client)
              expect(upstream.calls).toHaveLength(20)
              expect((yield* client.upstream).circuit).toBe("open")
              const fast = yield* Effect.exit(client.refresh(token))
              expect(failure(fast)).toMatchObject({ _tag: "UpstreamUnavailable", reason: "CircuitOpen", attempts: 0 })
              expect(upstream.calls).toHaveLength(20)
              expect((yield* Metric.value(refusedOpen)).count - before).toBe(1)
              yield* TestClock.adjust("5 seconds")
              expect((yield* client.upstream).circuit).toBe("half_open")
              const [one, other] = yield* Effect.all([client.refresh(token), client.refresh(token)].map(Effect.exit), {
                concurrency: "unbounded"
              })
              expect(upstream.calls).toHaveLength(21)
              expect([one!, other!].filter(Exit.isSuccess)).toHaveLength(1)
              expect([one!, other!].filter(Exit.isFailure).map((exit) => failure(exit))).toMatchObject([
                { _tag: "UpstreamUnavailable", reason: "CircuitOpen" }
              ])
              expect((yield* client.upstream).circuit).toBe("closed")
            })
        )
    )

    it.effect("a failed probe opens the breaker again", () =>
      withClient(["refused"], (client, upstream) =>
        Effect.gen(function* () {
          for (let i = 0; i < 5; i++) yield* settle(client)
          expect(upstream.calls).toHaveLength(20)
          yield* TestClock.adjust("5 seconds")
          const probe = yield* settle(client)
          expect(failure(probe)).toMatchObject({ _tag: "UpstreamUnavailable", reason: "CircuitOpen", attempts: 1 })
          expect(upstream.calls).toHaveLength(21)
          expect((yield* client.upstream).circuit).toBe("open")
        })
      )
    )

    it.effect("400, 401 and 429 are not failures: the breaker stays closed", () =>
      withClient(
        [
          ...Array.from({ length: 60 }, (_, i) =>
            i % 3 === 0
              ? { status: 400 }
              : i % 3 === 1
                ? { status: 401 }
                : { status: 429, headers: { "retry-after": "0" } }
          ),
          { status: 200, body: grantBody() }
        ],
        (client, upstream) =>
          Effect.gen(function* () {
            while (upstream.calls.length < 60) yield* settle(client)
            expect((yield* client.upstream).circuit).toBe("closed")
            expect(Exit.isSuccess(yield* settle(client))).toBe(true)
          })
      )
    )

    it.effect("circuitBreaker: false turns the breaker off", () =>
      withClient(
        [{ status: 503 }],
        (client, upstream) =>
          Effect.gen(function* () {
            for (let i = 0; i < 8; i++) yield* settle(client)
            expect(upstream.calls).toHaveLength(32)
          }),
        { circuitBreaker: false }
      )
    )

    it.effect("a 429 with Retry-After pauses every refresh: one that fits waits it out and then calls", () =>
      withClient(rateLimitedFor(5), (client, upstream) =>
        Effect.gen(function* () {
          const first = yield* Effect.fork(client.refresh(token))
          yield* TestClock.adjust("1 second")
          expect(upstream.calls).toHaveLength(1)
          const status = yield* client.upstream
          expect(Option.map(status.pausedUntil, DateTime.toEpochMillis)).toEqual(Option.some(5_000))
          const second = yield* Effect.fork(client.refresh(token))
          yield* TestClock.adjust("3999 millis")
          expect(upstream.calls).toHaveLength(1)
          yield* TestClock.adjust("1 millis")
          yield* Fiber.joinAll([first, second])
          expect(upstream.calls).toHaveLength(3)
          expect((yield* client.upstream).pausedUntil).toEqual(Option.none())
        })
      )
    )

    it.effect("a pause that outlasts the deadline: RateLimited at once with the seconds left, no call", () =>
      withClient(rateLimitedFor(30), (client, upstream) =>
        Effect.gen(function* () {
          const paused = Metric.tagged(RefreshMetrics.upstreamRefused, "reason", "paused")
          const before = (yield* Metric.value(paused)).count
          expect(failure(yield* Effect.exit(client.refresh(token)))).toMatchObject({ _tag: "RateLimited" })
          yield* TestClock.adjust("12 seconds")
          const refused = failure(yield* Effect.exit(client.refresh(token)))
          expect(refused._tag).toBe("RateLimited")
          if (refused._tag === "RateLimited") expect(Duration.toSeconds(refused.retryAfter)).toBe(18)
          expect(upstream.calls).toHaveLength(1)
          expect((yield* Metric.value(paused)).count - before).toBe(1)
        })
      )
    )

    it.effect("retries respect a pause another refresh started", () =>
      withClient([{ status: 503 }, ...rateLimitedFor(5)], (client, upstream) =>
        Effect.gen(function* () {
          const first = yield* Effect.fork(client.refresh(token))
          // The first refresh has its 503 (and waits on its body) before the second one starts.
          yield* awaitBlocked(first)
          expect(upstream.calls).toHaveLength(1)
          const second = yield* Effect.fork(client.refresh(token))
          yield* TestClock.adjust("1 second")
          expect(upstream.calls).toHaveLength(2)
          yield* TestClock.adjust("4 seconds")
          // Both end with a grant, from the two calls made once the pause is over.
          expect(yield* Fiber.joinAll([first, second])).toHaveLength(2)
          expect(upstream.calls).toHaveLength(4)
        })
      )
    )

    it.effect("beyond maxInFlight an attempt is refused at once as UpstreamUnavailable (InFlightLimit)", () =>
      withClient(
        ["hang"],
        (client, upstream) =>
          Effect.gen(function* () {
            const hung = yield* Effect.fork(
              Effect.all([client.refresh(token), client.refresh(token)], { concurrency: 2 })
            )
            yield* TestClock.adjust("10 millis")
            expect(upstream.calls).toHaveLength(2)
            expect((yield* client.upstream).inFlight).toBe(2)
            const refused = yield* Effect.exit(client.refresh(token))
            expect(failure(refused)).toMatchObject({ _tag: "UpstreamUnavailable", reason: "InFlightLimit" })
            expect(upstream.calls).toHaveLength(2)
            yield* Fiber.interrupt(hung)
            expect((yield* client.upstream).inFlight).toBe(0)
          }),
        { maxInFlight: 2 }
      )
    )
  })

  describe("layerConfig", () => {
    const fromEnv = (env: Record<string, string>) =>
      Effect.gen(function* () {
        const upstream = mockUpstream({ status: 200, body: grantBody() })
        return yield* Effect.flatMap(DdnAuthClient, (client) => client.refresh(token)).pipe(
          Effect.provide(Client.layerConfig().pipe(Layer.provide(upstream.layer))),
          Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
          Effect.as(upstream.calls[0]?.url),
          Effect.flip,
          Effect.map(String),
          Effect.orElseSucceed(() => `ok ${upstream.calls[0]?.url}`)
        )
      })

    it.effect("reads DDN_API_URL", () =>
      Effect.gen(function* () {
        expect(yield* fromEnv({ DDN_API_URL: "https://ddn.example/base" })).toBe(
          "ok https://ddn.example/base/gateway/auth/refresh"
        )
      })
    )

    it.effect.each([
      [{}, "DDN_API_URL"],
      [{ DDN_API_URL: "ftp://x" }, "DDN_API_URL"],
      [{ DDN_API_URL: "not a url" }, "DDN_API_URL"],
      [{ DDN_API_URL: "http://x", DDN_REFRESH_TIMEOUT_MS: "soon" }, "DDN_REFRESH_TIMEOUT_MS"],
      [{ DDN_API_URL: "http://x", DDN_REFRESH_TIMEOUT_MS: "0" }, "DDN_REFRESH_TIMEOUT_MS"],
      [{ DDN_API_URL: "http://x", DDN_ATTEMPT_TIMEOUT_MS: "-1" }, "DDN_ATTEMPT_TIMEOUT_MS"],
      [{ DDN_API_URL: "http://x", DDN_MAX_ATTEMPTS: "0" }, "DDN_MAX_ATTEMPTS"],
      [{ DDN_API_URL: "http://x", DDN_MAX_IN_FLIGHT: "0" }, "DDN_MAX_IN_FLIGHT"],
      [{ DDN_API_URL: "http://x", DDN_MAX_IN_FLIGHT: "lots" }, "DDN_MAX_IN_FLIGHT"]
    ] as const)("a bad environment names the variable: %o", ([env, name]) =>
      Effect.gen(function* () {
        expect(yield* fromEnv(env)).toContain(name)
      })
    )
  })
})
