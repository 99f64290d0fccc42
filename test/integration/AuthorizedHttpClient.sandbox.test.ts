import { AuthorizedHttpClient, TokenGrant, TokenSession, TokenStore } from "@ddn/auth"
import { DdnAuthNode } from "@ddn/auth/node"
import { SandboxServer } from "@ddn/sandbox"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { NodeHttpClient } from "@effect/platform-node"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Queue from "effect/Queue"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"

const Whoami = Schema.Struct({ sub: Schema.String })

/**
 * The session and the authorized client over undici, against the real sandbox on loopback. The
 * sandbox's clock runs `skew` ms ahead of ours when a test asks, so its access tokens go stale while
 * the session still believes them valid: exactly the case the 401 retry is for.
 */
describe("AuthorizedHttpClient against the sandbox", () => {
  let sandbox: SandboxServer.RunningSandbox
  let skew = 0
  beforeAll(async () => {
    sandbox = await SandboxServer.start({ accessTokenTtlSeconds: 60, now: () => Date.now() + skew })
  })
  afterAll(() => sandbox.stop())
  beforeEach(() => {
    skew = 0
    sandbox.faults.reset()
  })

  /** A grant minted by the sandbox, as the session will hold it: valid for 60 s on our clock. */
  const signIn = () =>
    TokenGrant.TokenGrant.fromResponse(
      Schema.decodeUnknownSync(TokenGrant.RefreshResponseBody)(sandbox.authority.mintSession()),
      Date.now()
    )

  /** Runs `use` with a session seeded with `seed` and an authorized client that records every status. */
  const withAuthorizedClient = <A, E>(
    seed: TokenStore.StoredSession,
    use: (
      client: HttpClient.HttpClient,
      statuses: Array<number>
    ) => Effect.Effect<A, E, TokenSession.TokenSession | Scope.Scope>
  ) =>
    Effect.gen(function* () {
      const statuses: Array<number> = []
      const inner = (yield* HttpClient.HttpClient).pipe(
        HttpClient.tap((response) => Effect.sync(() => statuses.push(response.status)))
      )
      const client = yield* AuthorizedHttpClient.make(inner)
      return yield* Effect.scoped(use(client, statuses))
    }).pipe(
      Effect.provide(
        Layer.mergeAll(
          TokenSession.layer().pipe(
            Layer.provide([
              DdnAuthNode.layerOptions({ apiUrl: sandbox.url, retryBaseDelay: "20 millis" }),
              TokenStore.layerMemory(seed)
            ])
          ),
          NodeHttpClient.layerUndici
        )
      )
    )

  /**
   * `withAuthorizedClient` with a stale session: signed in, then the sandbox's clock moved 61 s ahead,
   * so its access token is expired upstream while the session still believes it valid; `granted` is
   * the sandbox's count of grants before `use`.
   */
  const withStaleToken = <A, E>(
    use: (
      client: HttpClient.HttpClient,
      statuses: Array<number>,
      stale: { readonly seed: TokenGrant.TokenGrant; readonly granted: number }
    ) => Effect.Effect<A, E, TokenSession.TokenSession | Scope.Scope>
  ) =>
    Effect.suspend(() => {
      const seed = signIn()
      skew = 61_000
      const granted = sandbox.stats().granted
      return withAuthorizedClient(seed, (client, statuses) => use(client, statuses, { seed, granted }))
    })

  const whoami = (client: HttpClient.HttpClient) =>
    client
      .get(`${sandbox.url}/sandbox/whoami`)
      .pipe(
        Effect.flatMap(HttpClientResponse.filterStatusOk),
        Effect.flatMap(HttpClientResponse.schemaBodyJson(Whoami))
      )

  it.live("a valid token goes straight through", () =>
    withAuthorizedClient(signIn(), (client, statuses) =>
      Effect.gen(function* () {
        const granted = sandbox.stats().granted
        expect((yield* whoami(client)).sub).toMatch(/^user-/)
        expect(statuses).toEqual([200])
        expect(sandbox.stats().granted).toBe(granted)
      })
    )
  )

  it.live("a stale token → 401 → one refresh → 200 with the new token, and the rotation is stored", () =>
    withStaleToken((client, statuses, { granted, seed }) =>
      Effect.gen(function* () {
        expect((yield* whoami(client)).sub).toMatch(/^user-/)
        expect(statuses).toEqual([401, 200])
        expect(sandbox.stats().granted).toBe(granted + 1)

        const session = yield* TokenSession.TokenSession
        const current = Redacted.value(yield* session.accessToken)
        expect(sandbox.authority.verifyAccessToken(current)._tag).toBe("Valid")
        expect(current).not.toBe(Redacted.value(seed.accessToken))
        expect((yield* whoami(client)).sub).toMatch(/^user-/)
        expect(statuses).toEqual([401, 200, 200])
      })
    )
  )

  it.live("20 concurrent requests with the stale token → one refresh upstream, all 200", () =>
    withStaleToken((client, statuses, { granted }) =>
      Effect.gen(function* () {
        const answers = yield* Effect.all(
          Array.from({ length: 20 }, () => whoami(client)),
          { concurrency: "unbounded" }
        )
        expect(answers).toHaveLength(20)
        expect(statuses.filter((status) => status === 401).length).toBeGreaterThanOrEqual(1)
        expect(sandbox.stats().granted).toBe(granted + 1)
      })
    )
  )

  it.live("a refresh token spent elsewhere → the request fails with RefreshTokenExpired, and Revoked", () =>
    Effect.gen(function* () {
      const seed = signIn()
      expect(sandbox.authority.refresh(Redacted.value(seed.refreshToken))._tag).toBe("Granted")
      skew = 61_000
      yield* withAuthorizedClient(seed, (client, statuses) =>
        Effect.gen(function* () {
          const session = yield* TokenSession.TokenSession
          const events = yield* session.subscribe
          const exit = yield* Effect.exit(client.get(`${sandbox.url}/sandbox/whoami`))
          const error = Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined
          expect(error).toBeInstanceOf(HttpClientError.RequestError)
          expect(error).toMatchObject({ cause: { _tag: "RefreshTokenExpired" } })
          expect(statuses).toEqual([401])
          const revoked = yield* Queue.take(events)
          expect(revoked).toMatchObject({ _tag: "Revoked", error: { _tag: "RefreshTokenExpired" } })
          expect(String(error)).not.toContain(Redacted.value(seed.refreshToken))
        })
      )
    })
  )
})
