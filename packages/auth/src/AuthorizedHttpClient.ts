/**
 * An `HttpClient` that calls the DDN API as the signed-in user: every request gets
 * `Authorization: Bearer <access token>` from the `TokenSession`, and a 401 answer makes the session
 * replace that token (one refresh, however many requests were refused with it) and the request is
 * sent once more with the new one. A second 401 is returned as it is.
 *
 * Requests with a streamed body cannot be replayed: their 401 still replaces the token, but is
 * returned instead of retried. When the session cannot produce a token, the request fails with an
 * `HttpClientError.RequestError` (reason `Transport`) whose `cause` is the `SessionError`.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { discardBody } from "./internal/response.js"
import { type SessionError, TokenSession } from "./TokenSession.js"

const noAccessToken = (request: HttpClientRequest.HttpClientRequest) => (error: SessionError) =>
  new HttpClientError.RequestError({
    request,
    reason: "Transport",
    cause: error,
    description: `no DDN access token: ${error.message}`
  })

/**
 * Wraps `client` (default: the `HttpClient` in context) with the session's bearer token and the 401 retry.
 *
 * @since 0.1.0
 * @category constructors
 */
export function make(): Effect.Effect<HttpClient.HttpClient, never, TokenSession | HttpClient.HttpClient>
export function make(client: HttpClient.HttpClient): Effect.Effect<HttpClient.HttpClient, never, TokenSession>
export function make(
  client?: HttpClient.HttpClient
): Effect.Effect<HttpClient.HttpClient, never, TokenSession | HttpClient.HttpClient> {
  return Effect.gen(function* () {
    const session = yield* TokenSession
    const inner = client ?? (yield* HttpClient.HttpClient)

    const send = Effect.fn("AuthorizedHttpClient.execute")(function* (request: HttpClientRequest.HttpClientRequest) {
      const token = yield* Effect.mapError(session.accessToken, noAccessToken(request))
      const response = yield* inner.execute(HttpClientRequest.bearerToken(request, token))
      if (response.status !== 401) return response
      const replacement = yield* Effect.mapError(session.invalidate(token), noAccessToken(request))
      if (request.body._tag === "Stream") return response
      yield* discardBody(response)
      return yield* inner.execute(HttpClientRequest.bearerToken(request, replacement))
    })

    return HttpClient.makeWith<never, never, HttpClientError.HttpClientError, never>(
      Effect.flatMap(send),
      Effect.succeed
    )
  })
}

/**
 * Replaces the `HttpClient` in context with the authorized one. Provide it to the code that calls
 * the DDN API, never to `DdnAuthClient` itself: the refresh endpoint takes no bearer token.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<HttpClient.HttpClient, never, TokenSession | HttpClient.HttpClient> = Layer.effect(
  HttpClient.HttpClient,
  make()
)
