import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as AuthorizedHttpClient from "../src/AuthorizedHttpClient.js"
import * as TokenSession from "../src/TokenSession.js"
import { makeFakeApi } from "./utils/FakeApi.js"
import { secretMarker } from "./utils/FakeDdn.js"
import { makeHarness } from "./utils/sessionHarness.js"

const apiUrl = "https://api.ddn.test/v1/me"
const bearer = (n: number) => `Bearer ${secretMarker}-access-${n}`
const refresh = (n: number) => `${secretMarker}-refresh-${n}`
const accessToken = (n: number) => Redacted.make(`${secretMarker}-access-${n}`)

const setup = (seed: "minted" | "empty" = "minted") =>
  Effect.gen(function* () {
    const harness = yield* makeHarness({}, seed)
    const api = makeFakeApi(harness.ddn)
    const client = yield* AuthorizedHttpClient.make(api.client).pipe(
      Effect.provideService(TokenSession.TokenSession, harness.session)
    )
    return { ...harness, api, client }
  })

describe("AuthorizedHttpClient", () => {
  it.scoped("adds the session's access token as a bearer token", () =>
    Effect.gen(function* () {
      const { ddn, api, client } = yield* setup()
      const response = yield* client.get(apiUrl)
      expect(response.status).toBe(200)
      expect(yield* response.json).toEqual({ sub: "user-1" })
      expect(api.calls()).toEqual([{ url: apiUrl, authorization: bearer(1) }])
      expect(ddn.calls()).toBe(0)
    })
  )

  it.scoped("401 → one refresh, and one retry with the new token", () =>
    Effect.gen(function* () {
      const { ddn, store, api, client } = yield* setup()
      ddn.revokeAccessToken(accessToken(1))
      const response = yield* client.get(apiUrl)
      expect(response.status).toBe(200)
      expect(api.calls().map((call) => call.authorization)).toEqual([bearer(1), bearer(2)])
      expect(ddn.calls()).toBe(1)
      expect(yield* store.current).toBe(refresh(2))
    })
  )

  it.scoped("a second 401 is returned as it is, after one refresh", () =>
    Effect.gen(function* () {
      const { ddn, api, client } = yield* setup()
      api.refuseAll(true)
      const response = yield* client.get(apiUrl)
      expect(response.status).toBe(401)
      expect(yield* response.json).toEqual({ error: "invalid_token" })
      expect(api.calls().map((call) => call.authorization)).toEqual([bearer(1), bearer(2)])
      expect(ddn.calls()).toBe(1)
    })
  )

  it.scoped("20 concurrent requests refused with the same stale token cause one refresh", () =>
    Effect.gen(function* () {
      const { ddn, api, client } = yield* setup()
      ddn.revokeAccessToken(accessToken(1))
      yield* api.holdFirst(20)
      const responses = yield* Effect.all(
        Array.from({ length: 20 }, () => client.get(apiUrl)),
        { concurrency: "unbounded" }
      )
      expect(responses.map((response) => response.status)).toEqual(Array(20).fill(200))
      const authorizations = api.calls().map((call) => call.authorization)
      expect(authorizations.slice(0, 20)).toEqual(Array(20).fill(bearer(1)))
      expect(authorizations.slice(20)).toEqual(Array(20).fill(bearer(2)))
      expect(ddn.calls()).toBe(1)
    })
  )

  it.scoped("no session: a RequestError whose cause is the SessionError, and no call to the API", () =>
    Effect.gen(function* () {
      const { api, client } = yield* setup("empty")
      const exit = yield* Effect.exit(client.get(apiUrl))
      const error = Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined
      expect(error).toBeInstanceOf(HttpClientError.RequestError)
      expect(error).toMatchObject({ reason: "Transport", cause: { _tag: "NoSession" } })
      expect(error?.message).toContain("no DDN access token")
      expect(api.calls()).toEqual([])
    })
  )

  it.scoped("a streamed body is not replayed: its 401 is returned, and the next request has the new token", () =>
    Effect.gen(function* () {
      const { ddn, api, client } = yield* setup()
      ddn.revokeAccessToken(accessToken(1))
      const upload = HttpClientRequest.post(apiUrl).pipe(
        HttpClientRequest.bodyStream(Stream.make(new TextEncoder().encode("chunk")))
      )
      expect((yield* client.execute(upload)).status).toBe(401)
      expect(ddn.calls()).toBe(1)
      expect((yield* client.get(apiUrl)).status).toBe(200)
      expect(api.calls().map((call) => call.authorization)).toEqual([bearer(1), bearer(2)])
    })
  )

  it.scoped("request transformations applied on top (a base URL) still work", () =>
    Effect.gen(function* () {
      const { api, client } = yield* setup()
      const scoped = client.pipe(HttpClient.mapRequest(HttpClientRequest.prependUrl("https://api.ddn.test/v1")))
      expect((yield* scoped.get("/me")).status).toBe(200)
      expect(api.calls()).toEqual([{ url: apiUrl, authorization: bearer(1) }])
    })
  )

  it.scoped("layer replaces the HttpClient in context with the authorized one", () =>
    Effect.gen(function* () {
      const { session, ddn, api } = yield* setup()
      ddn.revokeAccessToken(accessToken(1))
      const status = yield* HttpClient.HttpClient.pipe(
        Effect.flatMap((client) => client.get(apiUrl)),
        Effect.map((response) => response.status),
        Effect.provide(
          AuthorizedHttpClient.layer.pipe(
            Layer.provide(Layer.succeed(HttpClient.HttpClient, api.client)),
            Layer.provide(Layer.succeed(TokenSession.TokenSession, session))
          )
        )
      )
      expect(status).toBe(200)
      expect(api.calls().map((call) => call.authorization)).toEqual([bearer(1), bearer(2)])
    })
  )
})
