/**
 * The DDN refresh client: `POST {apiUrl}/gateway/auth/refresh` as a typed, retrying, deadline-bound
 * Effect over the `HttpClient` and `Clock` services.
 *
 * Defaults: per-attempt timeout 3 s, at most 4 attempts, overall deadline 10 s, backoff from 100 ms
 * doubling with jitter. 400/401 and other 4xx are never retried; connection errors, attempt
 * timeouts, 408, 429 (honouring `Retry-After` when it fits the deadline), 500, 502, 503 and 504 are.
 * Interrupting the caller aborts the HTTP request in flight.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as CircuitBreaker from "./CircuitBreaker.js"
import * as EnvConfig from "./EnvConfig.js"
import { defaultLimit as defaultMaxInFlight } from "./InFlightLimit.js"
import { AttemptLog } from "./internal/attemptLog.js"
import * as MetricLabels from "./internal/metricLabels.js"
import { invalidReason } from "./internal/refreshTokenInput.js"
import { discardBody } from "./internal/response.js"
import { parseRetryAfter } from "./internal/retryAfter.js"
import { retryLazily } from "./internal/retrying.js"
import { isTransient, retryPolicy, TransientFailure } from "./internal/retryPolicy.js"
import { parseIssues } from "./internal/safeDescription.js"
import * as UpstreamGuard from "./internal/upstreamGuard.js"
import {
  InvalidInput,
  RateLimited,
  type RefreshError,
  RefreshTokenExpired,
  RefreshTokenInvalid,
  UpstreamBadResponse,
  UpstreamUnavailable
} from "./RefreshError.js"
import * as RefreshMetrics from "./RefreshMetrics.js"
import { RefreshResponseBody, TokenGrant } from "./TokenGrant.js"

/**
 * The refresh client service.
 *
 * @since 0.1.0
 * @category tags
 */
export class DdnAuthClient extends Context.Tag("@ddn/auth/DdnAuthClient")<DdnAuthClient, Service>() {}

/**
 * What the client can do.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /**
   * Trades a refresh token for a new pair. Refuses bad input with `InvalidInput` before any call;
   * never puts the token in an error, a log line or a span attribute.
   */
  readonly refresh: (refreshToken: Redacted.Redacted<string>) => Effect.Effect<TokenGrant, RefreshError>
  /** How the calls to DDN stand now: the circuit breaker, DDN's pause, the calls in flight (for readiness and metrics). */
  readonly upstream: Effect.Effect<UpstreamStatus>
}

/**
 * How the calls to DDN from one client stand.
 *
 * @since 0.1.0
 * @category models
 */
export interface UpstreamStatus {
  /** The circuit breaker's state (`closed` when the breaker is off). */
  readonly circuit: CircuitBreaker.State
  /** When DDN's pause (its last 429's `Retry-After`) ends, while it runs. */
  readonly pausedUntil: Option.Option<DateTime.Utc>
  /** Upstream calls in flight now. */
  readonly inFlight: number
  /** The most upstream calls allowed in flight at once. */
  readonly maxInFlight: number
}

/**
 * How hard to try: the deadline, attempts and backoff of one refresh.
 *
 * @since 0.1.0
 * @category models
 */
export interface Policy {
  /** Overall deadline for one refresh, retries and waits included. Default 10 s. */
  readonly deadline?: Duration.DurationInput | undefined
  /** Timeout of each HTTP attempt. Default 3 s. */
  readonly attemptTimeout?: Duration.DurationInput | undefined
  /** Attempts in all, the first included. Default 4. */
  readonly maxAttempts?: number | undefined
  /** First backoff delay; later ones double, each jittered. Default 100 ms. */
  readonly retryBaseDelay?: Duration.DurationInput | undefined
  /**
   * The most upstream calls in flight at once from this client; an attempt beyond it fails at once
   * with `UpstreamUnavailable` (`InFlightLimit`) instead of queueing. Default 256. Give the
   * `HttpClient`'s connection pool the same bound.
   */
  readonly maxInFlight?: number | undefined
  /**
   * The circuit breaker on transient upstream failures (5xx, 408, timeouts, transport errors; never
   * 400, 401 or 429): at least half of at least 20 attempts in 10 s failed → attempts fail at once
   * with `UpstreamUnavailable` (`CircuitOpen`) for 5 s → one probe decides. `false` turns it off.
   * Default `CircuitBreaker.defaults`.
   */
  readonly circuitBreaker?: CircuitBreaker.Options | false | undefined
}

/**
 * The status of a client with nothing in flight, closed and unpaused: for test doubles of {@link Service}.
 *
 * @since 0.1.0
 * @category constants
 */
export const idleUpstream: UpstreamStatus = {
  circuit: "closed",
  pausedUntil: Option.none(),
  inFlight: 0,
  maxInFlight: defaultMaxInFlight
}

/**
 * How to reach DDN and how hard to try.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends Policy {
  /** Base URL of the DDN API, e.g. `https://api.example.com`; the endpoint path is appended. */
  readonly apiUrl: string | URL
}

/**
 * The defaults of `Options`.
 *
 * @since 0.1.0
 * @category config
 */
export const defaults = {
  deadline: Duration.seconds(10),
  attemptTimeout: Duration.seconds(3),
  maxAttempts: 4,
  retryBaseDelay: Duration.millis(100),
  maxInFlight: defaultMaxInFlight
} as const

/**
 * The endpoint path, relative to `apiUrl`.
 *
 * @since 0.1.0
 * @category constants
 */
export const refreshPath = "/gateway/auth/refresh"

/**
 * `DDN_API_URL`: the base URL of the DDN API, `http://` or `https://` (required by {@link config}).
 *
 * @since 0.1.0
 * @category config
 */
export const apiUrlConfig: Config.Config<URL> = EnvConfig.url("DDN_API_URL", ["http:", "https:"])

/**
 * The `Policy` from the environment: `DDN_REFRESH_TIMEOUT_MS` (deadline, 1–600000, default 10000),
 * `DDN_ATTEMPT_TIMEOUT_MS` (1–600000, default 3000), `DDN_MAX_ATTEMPTS` (1–10, default 4),
 * `DDN_MAX_IN_FLIGHT` (1–100000, default 256). Unset variables keep their defaults; a blank or bad
 * one fails naming it.
 *
 * @since 0.1.0
 * @category config
 */
export const policyConfig: Config.Config<
  Required<Pick<Policy, "deadline" | "attemptTimeout" | "maxAttempts" | "maxInFlight">>
> = Config.all({
  deadline: EnvConfig.millis("DDN_REFRESH_TIMEOUT_MS", 1, 600_000).pipe(Config.withDefault(defaults.deadline)),
  attemptTimeout: EnvConfig.millis("DDN_ATTEMPT_TIMEOUT_MS", 1, 600_000).pipe(
    Config.withDefault(defaults.attemptTimeout)
  ),
  maxAttempts: EnvConfig.integer("DDN_MAX_ATTEMPTS", 1, 10).pipe(Config.withDefault(defaults.maxAttempts)),
  maxInFlight: EnvConfig.integer("DDN_MAX_IN_FLIGHT", 1, 100_000).pipe(Config.withDefault(defaults.maxInFlight))
})

/**
 * `Options` from the environment: {@link apiUrlConfig} and {@link policyConfig}.
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<Options> = Config.map(
  Config.all([apiUrlConfig, policyConfig]),
  ([apiUrl, policy]): Options => ({ ...policy, apiUrl })
)

const attemptsByOutcome = MetricLabels.byValue(
  RefreshMetrics.upstreamAttempts,
  RefreshMetrics.descriptors.upstreamAttempts.label
)
const statusClass = (status: number) =>
  status >= 500 ? "5xx" : status >= 400 ? "4xx" : status >= 300 ? "3xx" : ("2xx" as const)

const retriedStatuses = new Set([408, 429, 500, 502, 503, 504])

/** Walks an error's `cause` chain for a Node system error code. */
const systemErrorCode = (error: unknown): string | undefined => {
  for (let current = error, depth = 0; current !== null && typeof current === "object" && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === "string") return code
    current = (current as { cause?: unknown }).cause
  }
  return undefined
}

const transportFailure = (error: HttpClientError.HttpClientError) =>
  new TransientFailure({
    kind: "Transport",
    retryAfter: Option.none(),
    // A refused connection never delivered the request; anything else (reset, socket hang-up) may have.
    reachedUpstream: systemErrorCode(error.cause) !== "ECONNREFUSED"
  })

const decodeBody = Schema.decodeUnknownEither(RefreshResponseBody)

/** The grant in a 2xx response: its JSON body decoded with `RefreshResponseBody`, synchronously once read. */
const decodeGrant = (
  response: HttpClientResponse.HttpClientResponse,
  receivedAt: number
): Effect.Effect<TokenGrant, UpstreamBadResponse | TransientFailure> =>
  Effect.matchEffect(response.json, {
    onFailure: (error): Effect.Effect<never, UpstreamBadResponse | TransientFailure> =>
      error.cause instanceof SyntaxError
        ? Effect.fail(new UpstreamBadResponse({ status: response.status, issues: ["body: not JSON"] }))
        : Effect.fail(transportFailure(error)),
    onSuccess: (json) => {
      const body = decodeBody(json)
      return Either.isRight(body)
        ? Effect.succeed(TokenGrant.fromResponse(body.right, receivedAt))
        : Effect.fail(new UpstreamBadResponse({ status: response.status, issues: parseIssues(body.left, "body") }))
    }
  })

/** Fails with `error` once the body is drained. */
const answeredWith = <E>(response: HttpClientResponse.HttpClientResponse, error: E): Effect.Effect<never, E> =>
  Effect.zipRight(discardBody(response), Effect.fail(error))

/** What a response means: a grant, a terminal `RefreshError`, or a `TransientFailure` worth retrying. */
const classify = (
  response: HttpClientResponse.HttpClientResponse,
  receivedAt: number,
  attemptNumber: number
): Effect.Effect<TokenGrant, RefreshError | TransientFailure> =>
  HttpClientResponse.matchStatus(response, {
    "2xx": (ok) => decodeGrant(ok, receivedAt),
    400: (rejected) => answeredWith(rejected, new RefreshTokenInvalid()),
    401: (rejected) => answeredWith(rejected, new RefreshTokenExpired()),
    orElse: (other) =>
      answeredWith(
        other,
        retriedStatuses.has(other.status)
          ? new TransientFailure({
              kind: "Status",
              status: other.status,
              retryAfter: parseRetryAfter(other.headers["retry-after"], receivedAt),
              reachedUpstream: other.status !== 429
            })
          : new UpstreamUnavailable({ reason: "Status", status: other.status, attempts: attemptNumber })
      )
  })

/** Whether a failed attempt may be retried: a transient failure other than the deadline. */
const retriable = (error: RefreshError | TransientFailure): boolean => isTransient(error) && error.kind !== "Deadline"

/** The error a caller sees once the retries are over: the last failure, or the deadline. */
const fromTransient = (failure: TransientFailure, log: AttemptLog): RefreshError => {
  const last = failure.kind === "Deadline" ? log.lastTransient : failure
  return last?.status === 429
    ? new RateLimited({ retryAfter: Option.getOrElse(last.retryAfter, () => Duration.seconds(1)) })
    : new UpstreamUnavailable({
        reason: failure.kind,
        attempts: log.attempts,
        ...(last?.status === undefined ? {} : { status: last.status })
      })
}

/** The refresh's conclusion: what is left of the retries as a `RefreshError`, warning when a 401 may be our own doing. */
const conclude = (error: RefreshError | TransientFailure, log: AttemptLog): Effect.Effect<never, RefreshError> => {
  if (isTransient(error)) return Effect.fail(fromTransient(error, log))
  if (error._tag === "RefreshTokenExpired" && log.mayHaveRotated) {
    return Effect.zipRight(
      Effect.logWarning(
        "DDN answered 401 after an earlier attempt failed: the earlier attempt may have rotated the token"
      ).pipe(Effect.annotateLogs({ attempts: log.attempts })),
      Effect.fail(error)
    )
  }
  return Effect.fail(error)
}

/** The span of one refresh; no call-site stack trace is captured (it would cost an `Error` per call). */
const refreshSpan = { captureStackTrace: false } as const

/**
 * Builds the client from `Options`; needs an `HttpClient`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Service, never, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const deadlineMillis = Duration.toMillis(Duration.decode(options.deadline ?? defaults.deadline))
    const attemptTimeoutMillis = Duration.toMillis(Duration.decode(options.attemptTimeout ?? defaults.attemptTimeout))
    const maxAttempts = options.maxAttempts ?? defaults.maxAttempts
    const baseDelay = Duration.decode(options.retryBaseDelay ?? defaults.retryBaseDelay)
    const apiUrl = new URL(options.apiUrl).href.replace(/\/+$/, "")
    const maxInFlight = options.maxInFlight ?? defaults.maxInFlight
    const guard = UpstreamGuard.make({ circuitBreaker: options.circuitBreaker ?? {}, maxInFlight })

    // DDN is a third party: our trace context (traceparent, b3) stays home. The request is still
    // traced here, as an `http.client` span under `DdnAuthClient.refresh`.
    const httpClient = HttpClient.withTracerPropagation(yield* HttpClient.HttpClient, false)
    // Everything but the body is the same for every refresh: built once.
    const refreshRequest = HttpClientRequest.post(`${apiUrl}${refreshPath}`, { acceptJson: true })

    /**
     * One HTTP exchange within `timeoutMillis`: a grant, a terminal `RefreshError`, or a `TransientFailure`.
     * When the deadline is nearer than the attempt timeout it bounds the attempt, and its expiry is a
     * `Deadline` failure: one timer per attempt serves both limits.
     */
    const exchange = (
      request: HttpClientRequest.HttpClientRequest,
      attemptNumber: number,
      timeoutMillis: number,
      boundByDeadline: boolean
    ) =>
      httpClient.execute(request).pipe(
        Effect.mapError(transportFailure),
        Effect.flatMap((response) => {
          const outcome = attemptsByOutcome[statusClass(response.status)]
          return Effect.zipRight(
            Metric.increment(outcome),
            Effect.flatMap(Clock.currentTimeMillis, (receivedAt) => classify(response, receivedAt, attemptNumber))
          )
        }),
        Effect.timeoutFail({
          duration: Duration.millis(timeoutMillis),
          onTimeout: () =>
            new TransientFailure({
              kind: boundByDeadline ? "Deadline" : "Timeout",
              retryAfter: Option.none(),
              reachedUpstream: true
            })
        }),
        // Every attempt counts once: a status class above, or here a transport failure or a timeout
        // (`Deadline` here is this attempt's timer running out at the deadline, so a timeout too).
        Effect.tapError((error) =>
          isTransient(error) && error.kind !== "Status"
            ? Metric.increment(error.kind === "Transport" ? attemptsByOutcome.transport : attemptsByOutcome.timeout)
            : Effect.void
        )
      )

    /** One attempt of a refresh, through the upstream guard (DDN's pause, the breaker, the in-flight bound), noted in `log`. */
    const attempt = (request: HttpClientRequest.HttpClientRequest, log: AttemptLog) =>
      guard
        .run(
          log.deadlineAt,
          () => log.attempts,
          (now) => {
            log.attempts += 1
            const remaining = log.deadlineAt - now
            const boundByDeadline = remaining <= attemptTimeoutMillis
            const current = exchange(
              request,
              log.attempts,
              boundByDeadline ? remaining : attemptTimeoutMillis,
              boundByDeadline
            )
            return log.attempts > 1
              ? Effect.zipRight(Metric.increment(RefreshMetrics.upstreamRetries), current)
              : current
          }
        )
        .pipe(Effect.tapError((error) => Effect.sync(() => log.note(error))))

    /** One refresh of a valid token: attempt → retry policy → conclusion. */
    const run = (token: string): Effect.Effect<TokenGrant, RefreshError> =>
      Effect.clockWith((clock) => {
        const log = new AttemptLog(clock.unsafeCurrentTimeMillis() + deadlineMillis)
        const request = HttpClientRequest.bodyUnsafeJson(refreshRequest, { refreshToken: token })
        return attempt(request, log).pipe(
          retryLazily({
            schedule: () => retryPolicy({ baseDelay, maxAttempts, deadlineAt: log.deadlineAt }),
            while: retriable
          }),
          Effect.catchAll((error) => conclude(error, log))
        )
      })

    const refresh = (refreshToken: Redacted.Redacted<string>): Effect.Effect<TokenGrant, RefreshError> =>
      Effect.withSpan(
        Effect.suspend(() => {
          const token = Redacted.value(refreshToken)
          const reason = invalidReason(token)
          return reason === undefined ? run(token) : Effect.fail(new InvalidInput({ reason }))
        }),
        "DdnAuthClient.refresh",
        refreshSpan
      )

    const upstream = Effect.clockWith((clock) => {
      const status = guard.status(clock.unsafeCurrentTimeMillis())
      return Effect.succeed<UpstreamStatus>({
        circuit: status.circuit,
        pausedUntil:
          status.pausedUntil === undefined ? Option.none() : Option.some(DateTime.unsafeMake(status.pausedUntil)),
        inFlight: status.inFlight,
        maxInFlight
      })
    })

    return DdnAuthClient.of({ refresh, upstream })
  })

/**
 * The client as a layer, from explicit `Options`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<DdnAuthClient, never, HttpClient.HttpClient> =>
  Layer.effect(DdnAuthClient, make(options))

/**
 * The client as a layer, from a `Config` of `Options` (default: the `DDN_*` environment variables of `config`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config<Options> = config
): Layer.Layer<DdnAuthClient, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(DdnAuthClient, Effect.flatMap(options, make))
