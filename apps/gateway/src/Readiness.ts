/**
 * `GET /readyz`: whether DDN answers, probed at most once per {@link defaults} `interval` (5 s) and
 * answered from the last result, so a flood of `/readyz` makes at most one upstream request per
 * interval (concurrent callers share the probe in flight). The first probe is made by the first
 * `/readyz`, so a gateway nobody asks sends DDN nothing.
 *
 * The probe `POST`s the refresh endpoint with an empty token, through the gateway's `HttpClient` (the
 * core's pooled undici client), untraced: any HTTP answer below 500 within the timeout (2 s) means DDN
 * is there (it answers 400 to an empty token); a 5xx, a connection error or silence means it is not.
 *
 * The JSON body is `{"status": "ready" | "upstream_unavailable", …members}`: each {@link Member}
 * (how the gateway coordinates; the upstream's circuit, pause and calls in flight, see
 * {@link upstreamMember}) adds one field, read on every call.
 *
 * @since 0.1.0
 */
import { DdnAuthClient } from "@ddn/auth"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { constTrue } from "effect/Function"

/**
 * One more field of the `/readyz` body, read on every call.
 *
 * @since 0.1.0
 * @category models
 */
export interface Member {
  readonly name: string
  readonly read: () => unknown
}

/**
 * What `/readyz` answers: 200 with `body` when `ready`, else 503.
 *
 * @since 0.1.0
 * @category models
 */
export interface Report {
  readonly ready: boolean
  readonly body: Readonly<Record<string, unknown>>
}

/**
 * Readiness settings.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The DDN API whose refresh endpoint is probed. */
  readonly apiUrl: URL | string
  /** How long a probe result is reused. Default 5 s. */
  readonly interval?: Duration.DurationInput | undefined
  /** How long DDN has to answer a probe. Default 2 s. */
  readonly timeout?: Duration.DurationInput | undefined
  /** Fields added to the body. */
  readonly members?: ReadonlyArray<Member> | undefined
}

/**
 * The defaults of {@link Options}.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaults = { interval: Duration.seconds(5), timeout: Duration.seconds(2) } as const

/**
 * The probe is no one's request and DDN is a third party: no span, and no trace context on the wire
 * (`traceparent`, `b3`). Its body holds an empty token, so no token is ever sent either.
 */
const untraced = (client: HttpClient.HttpClient): HttpClient.HttpClient =>
  client.pipe(HttpClient.withTracerDisabledWhen(constTrue), HttpClient.withTracerPropagation(false))

const probeRequest = (apiUrl: URL | string): HttpClientRequest.HttpClientRequest =>
  HttpClientRequest.post(`${new URL(apiUrl).href.replace(/\/+$/, "")}${DdnAuthClient.refreshPath}`, {
    acceptJson: true
  }).pipe(HttpClientRequest.bodyUnsafeJson({ refreshToken: "" }))

/**
 * One probe of `apiUrl`'s refresh endpoint through the `HttpClient` (the gateway's: the core's undici
 * pool): `true` when DDN answers below 500 within `timeout`, its body read so the connection is reused.
 *
 * @since 0.1.0
 * @category constructors
 */
export const probe = (
  apiUrl: URL | string,
  timeout: Duration.DurationInput = defaults.timeout
): Effect.Effect<boolean, never, HttpClient.HttpClient> => {
  const request = probeRequest(apiUrl)
  return Effect.flatMap(HttpClient.HttpClient, (client) =>
    untraced(client)
      .execute(request)
      .pipe(
        Effect.flatMap((response) => Effect.as(response.arrayBuffer, response.status < 500)),
        Effect.timeout(timeout),
        Effect.orElseSucceed(() => false)
      )
  )
}

/**
 * The body's `upstream` member.
 *
 * @since 0.1.0
 * @category models
 */
export interface UpstreamMember {
  /** The circuit breaker on DDN calls: `closed`, `open` (calls refused) or `half_open` (a probe decides). */
  readonly circuit: DdnAuthClient.UpstreamStatus["circuit"]
  readonly inFlight: number
  readonly maxInFlight: number
  /** While DDN's `Retry-After` pauses every call: when the pause ends (ISO 8601) … */
  readonly pausedUntil?: string
  /** … and the whole seconds left in it. */
  readonly pausedForSeconds?: number
}

/**
 * The `upstream` member from the client's status, at `nowMillis`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const upstreamMember = (status: DdnAuthClient.UpstreamStatus, nowMillis: number): UpstreamMember => {
  const base = { circuit: status.circuit, inFlight: status.inFlight, maxInFlight: status.maxInFlight }
  if (status.pausedUntil._tag === "None") return base
  const until = DateTime.toEpochMillis(status.pausedUntil.value)
  return {
    ...base,
    pausedUntil: DateTime.formatIso(status.pausedUntil.value),
    pausedForSeconds: Math.max(0, Math.ceil((until - nowMillis) / 1000))
  }
}

/**
 * The status field of the body.
 *
 * @since 0.1.0
 * @category constants
 */
export const statuses = { ready: "ready", notReady: "upstream_unavailable" } as const

/**
 * Makes the readiness check: an effect answering from a probe at most `interval` old, made through
 * the `HttpClient` provided here.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Effect.Effect<Report>, never, HttpClient.HttpClient> =>
  // The cached probe keeps the context it is made in: the `HttpClient` required here.
  Effect.map(
    Effect.cachedWithTTL(probe(options.apiUrl, options.timeout), options.interval ?? defaults.interval),
    (probed) =>
      Effect.map(probed, (ready): Report => {
        const body: Record<string, unknown> = { status: ready ? statuses.ready : statuses.notReady }
        for (const member of options.members ?? []) body[member.name] = member.read()
        return { ready, body }
      })
  )
