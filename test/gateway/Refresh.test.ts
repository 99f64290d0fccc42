import type { Gateway } from "@ddn/gateway"
import type { SandboxServer } from "@ddn/sandbox"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { postJson, refresh, startGateway, startSandbox } from "./support.js"

let sandbox: SandboxServer.RunningSandbox
let gateway: Gateway.Gateway

beforeAll(async () => {
  sandbox = await startSandbox()
  gateway = await startGateway(
    sandbox.url,
    {},
    {
      // A token no upstream would issue makes the client die: the only way to reach a defect.
      decorateRefresh: (client) => ({
        coordinate: (token) =>
          Redacted.value(token) === "defect-please"
            ? Effect.die(new Error("secret detail of a bug"))
            : client.coordinate(token)
      })
    }
  )
})

afterAll(async () => {
  await gateway?.close()
  await sandbox?.stop()
})

beforeEach(() => sandbox.faults.reset())

const upstreamCalls = () => sandbox.stats().refreshRequests

describe("refreshToken against the sandbox", () => {
  it("trades a refresh token for a new pair, expiresAt in ISO-8601 UTC", async () => {
    const session = sandbox.authority.mintSession()
    const before = Date.now()
    const { status, headers, body } = await refresh(gateway.graphqlUrl, session.refreshToken)
    expect(status).toBe(200)
    expect(headers.get("cache-control")).toBe("no-store")
    const pair = body.data.refreshToken
    expect(pair).toMatchObject({ __typename: "TokenPair", expiresIn: 3600, tokenType: "Bearer" })
    expect(pair.refreshToken).not.toBe(session.refreshToken)
    expect(sandbox.authority.verifyAccessToken(pair.accessToken)._tag).toBe("Valid")
    expect(pair.expiresAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
    const expiresAt = Date.parse(pair.expiresAt)
    expect(expiresAt).toBeGreaterThanOrEqual(before + 3600_000 - 1000)
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 3600_000 + 1000)
    expect(body.errors).toBeUndefined()

    const again = await refresh(gateway.graphqlUrl, pair.refreshToken)
    expect(again.body.data.refreshToken.__typename).toBe("TokenPair")
  })

  it("answers a spent or unknown token (upstream 401) with RefreshTokenRejected EXPIRED as data", async () => {
    const session = sandbox.authority.mintSession()
    sandbox.authority.refresh(session.refreshToken) // spent by another client, so not in the reuse window
    const { body } = await refresh(gateway.graphqlUrl, session.refreshToken)
    expect(body.errors).toBeUndefined()
    expect(body.data.refreshToken).toEqual({
      __typename: "RefreshTokenRejected",
      reason: "EXPIRED",
      message: expect.any(String)
    })
    expect(body.data.refreshToken.message).not.toContain(session.refreshToken)
  })

  it("answers an upstream 400 with RefreshTokenRejected INVALID as data", async () => {
    sandbox.faults.inject({ type: "status", status: 400 })
    const token = sandbox.authority.mintSession().refreshToken
    const { body } = await refresh(gateway.graphqlUrl, token)
    expect(body.data.refreshToken).toMatchObject({ __typename: "RefreshTokenRejected", reason: "INVALID" })
    expect(JSON.stringify(body)).not.toContain(token)
  })

  it.each([
    ["empty", ""],
    ["over 8 KiB", "x".repeat(8 * 1024 + 1)],
    ["with control characters", "abc\u0000def"]
  ])("refuses a token %s with BAD_USER_INPUT and no upstream call", async (_, token) => {
    const calls = upstreamCalls()
    const { status, body } = await refresh(gateway.graphqlUrl, token)
    expect(status).toBe(200)
    expect(body.data).toBeNull()
    expect(body.errors).toHaveLength(1)
    expect(body.errors[0].extensions).toEqual({ code: "BAD_USER_INPUT" })
    expect(upstreamCalls()).toBe(calls)
  })

  it("maps 5xx after every retry to UPSTREAM_UNAVAILABLE with retryable: true", async () => {
    sandbox.faults.inject({ type: "status", status: 503 }, 4)
    const token = sandbox.authority.mintSession().refreshToken
    const calls = upstreamCalls()
    const { body } = await refresh(gateway.graphqlUrl, token)
    expect(body.data).toBeNull()
    expect(body.errors[0].extensions).toEqual({ code: "UPSTREAM_UNAVAILABLE", retryable: true })
    expect(body.errors[0].message).not.toContain(token)
    expect(upstreamCalls() - calls).toBe(4)
  })

  it("maps a connection reset after every retry to UPSTREAM_UNAVAILABLE", async () => {
    sandbox.faults.inject({ type: "reset" }, 4)
    const { body } = await refresh(gateway.graphqlUrl, sandbox.authority.mintSession().refreshToken)
    expect(body.errors[0].extensions).toEqual({ code: "UPSTREAM_UNAVAILABLE", retryable: true })
  })

  it("maps a 429 whose Retry-After outlasts the deadline to RATE_LIMITED with retryAfterSeconds", async () => {
    // DDN's Retry-After pauses every call of the gateway that got it: a gateway of its own, so
    // the other tests do not wait out its 120 s.
    const paused = await startGateway(sandbox.url)
    sandbox.faults.inject({ type: "status", status: 429, retryAfter: 120 })
    const { body } = await refresh(paused.graphqlUrl, sandbox.authority.mintSession().refreshToken).finally(() =>
      paused.close()
    )
    expect(body.data).toBeNull()
    expect(body.errors[0].extensions).toEqual({ code: "RATE_LIMITED", retryAfterSeconds: 120 })
    expect(Number.isInteger(body.errors[0].extensions.retryAfterSeconds)).toBe(true)
  })

  it("maps an off-spec 200 body to UPSTREAM_BAD_RESPONSE without echoing it", async () => {
    sandbox.faults.inject({ type: "malformed", body: '{"accessToken":"leaked-body-value","expiresIn":"soon"}' })
    const { body } = await refresh(gateway.graphqlUrl, sandbox.authority.mintSession().refreshToken)
    expect(body.data).toBeNull()
    expect(body.errors[0].extensions).toEqual({ code: "UPSTREAM_BAD_RESPONSE" })
    expect(JSON.stringify(body)).not.toContain("leaked-body-value")
  })

  it("masks a defect as INTERNAL_SERVER_ERROR with no message detail and no stack", async () => {
    const { body } = await refresh(gateway.graphqlUrl, "defect-please")
    expect(body.data).toBeNull()
    expect(body.errors).toHaveLength(1)
    expect(body.errors[0].message).toBe("Internal server error")
    expect(body.errors[0].extensions).toEqual({ code: "INTERNAL_SERVER_ERROR" })
    expect(JSON.stringify(body)).not.toMatch(/secret detail|stack|at .*\.ts/)
  })

  it("runs up to four aliased refreshes in one operation", async () => {
    const [a, b, c, d] = Array.from({ length: 4 }, () => sandbox.authority.mintSession().refreshToken)
    const query = `mutation($a: String!, $b: String!, $c: String!, $d: String!) {
      a: refreshToken(refreshToken: $a) { __typename }
      b: refreshToken(refreshToken: $b) { __typename }
      c: refreshToken(refreshToken: $c) { __typename }
      refreshToken(refreshToken: $d) { __typename }
    }`
    const { body } = await postJson(gateway.graphqlUrl, { query, variables: { a, b, c, d } })
    expect(body.errors).toBeUndefined()
    expect(Object.values(body.data).map((value) => (value as { __typename: string }).__typename)).toEqual([
      "TokenPair",
      "TokenPair",
      "TokenPair",
      "TokenPair"
    ])
  })

  it("answers the health query", async () => {
    const { body } = await postJson(gateway.graphqlUrl, { query: "{ health }" })
    expect(body).toEqual({ data: { health: "ok" } })
  })
})
