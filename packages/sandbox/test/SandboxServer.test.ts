import { Agent, request } from "node:http"
import { afterEach, beforeEach, describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Faults from "../src/Faults.js"
import * as SandboxServer from "../src/SandboxServer.js"
import type * as TokenAuthority from "../src/TokenAuthority.js"
import { manualClock } from "./utils/clock.js"
import { postJson, type Reply, refresh, send } from "./utils/http.js"

let sandbox: SandboxServer.RunningSandbox
let clock: ReturnType<typeof manualClock>

beforeEach(async () => {
  clock = manualClock()
  sandbox = await SandboxServer.start({ now: clock.now })
})
afterEach(() => sandbox.stop())

const at = (path: string) => `${sandbox.url}${path}`
const mint = () => sandbox.authority.mintSession()
const refreshAt = (token: string) => refresh(sandbox.url, token)
const grantOf = (reply: Reply) => reply.json() as TokenAuthority.Grant
const errorCode = (promise: Promise<unknown>) =>
  promise.then(
    () => "no error",
    (error: NodeJS.ErrnoException) => error.code ?? error.name
  )
const inject = (fault: Faults.Fault & { times?: number }) => postJson(at("/sandbox/faults"), fault)

describe("SandboxServer routes", () => {
  it("GET /healthz answers 200", async () => {
    const reply = await send(at("/healthz"))
    expect(reply.status).toBe(200)
    expect(reply.json()).toEqual({ status: "ok" })
  })

  it("POST /sandbox/sessions mints a demo session (201, no-store)", async () => {
    const reply = await send(at("/sandbox/sessions"), { method: "POST" })
    expect(reply.status).toBe(201)
    expect(reply.headers["cache-control"]).toBe("no-store")
    const grant = grantOf(reply)
    expect(Object.keys(grant)).toEqual(["accessToken", "refreshToken", "expiresIn", "tokenType"])
    expect((await refreshAt(grant.refreshToken)).status).toBe(200)
  })

  it("POST /sandbox/sessions?count=N mints N sessions at once, as an array", async () => {
    const reply = await send(at("/sandbox/sessions?count=3"), { method: "POST" })
    expect(reply.status).toBe(201)
    const grants = reply.json() as Array<TokenAuthority.Grant>
    expect(grants).toHaveLength(3)
    expect(new Set(grants.map((grant) => grant.refreshToken)).size).toBe(3)
    for (const grant of grants) expect((await refreshAt(grant.refreshToken)).status).toBe(200)
    expect(sandbox.stats().sessionsMinted).toBe(3)
    for (const count of ["0", "-1", "1.5", "x", String(SandboxServer.maxSessionsPerRequest + 1)]) {
      const refused = await send(at(`/sandbox/sessions?count=${count}`), { method: "POST" })
      expect(refused.status).toBe(400)
      expect(refused.json()).toMatchObject({ error: "invalid_request" })
    }
    expect(sandbox.stats().sessionsMinted).toBe(3)
  })

  it("POST /gateway/auth/refresh rotates the token per the OpenAPI document (200, no-store)", async () => {
    const session = mint()
    const reply = await refreshAt(session.refreshToken)
    expect(reply.status).toBe(200)
    expect(reply.headers["content-type"]).toBe("application/json")
    expect(reply.headers["cache-control"]).toBe("no-store")
    expect(reply.headers.pragma).toBe("no-cache")
    const grant = grantOf(reply)
    expect(Object.keys(grant)).toEqual(["accessToken", "refreshToken", "expiresIn", "tokenType"])
    expect(grant).toMatchObject({ expiresIn: 3600, tokenType: "Bearer" })
    expect(grant.refreshToken).not.toBe(session.refreshToken)
    expect(sandbox.authority.verifyAccessToken(grant.accessToken)._tag).toBe("Valid")
    expect((await refreshAt(grant.refreshToken)).status).toBe(200)
  })

  it("accepts application/json with parameters and in any case", async () => {
    const reply = await postJson(
      at("/gateway/auth/refresh"),
      { refreshToken: mint().refreshToken, extra: true },
      { headers: { "content-type": "Application/JSON; charset=utf-8" } }
    )
    expect(reply.status).toBe(200)
  })

  const refusedBodies: Record<string, ReadonlyArray<string>> = {
    "application/json": ["{", "", "[]", '"token"', "null", "{}", '{"refreshToken":42}', '{"refreshToken":""}'],
    "text/plain": ['{"refreshToken":"TOKEN"}'],
    "application/x-www-form-urlencoded": ["refreshToken=TOKEN"],
    "no content type": ['{"refreshToken":"TOKEN"}']
  }
  const badRequests = Object.entries(refusedBodies).flatMap(([type, bodies]) => bodies.map((body) => [type, body]))

  it.each(badRequests)(
    "answers 400 invalid_request to %s %j, without spending or echoing the token",
    async (type, body) => {
      const { refreshToken } = mint()
      const reply = await send(at("/gateway/auth/refresh"), {
        method: "POST",
        headers: type === "no content type" ? {} : { "content-type": type },
        body: body.replace("TOKEN", refreshToken)
      })
      expect(reply.status).toBe(400)
      expect(reply.json()).toEqual({ error: "invalid_request", message: expect.any(String) })
      expect(reply.text).not.toContain(refreshToken)
      expect((await refreshAt(refreshToken)).status).toBe(200)
    }
  )

  it("answers 401 invalid_grant to unknown, reused, revoked and expired tokens, never echoing them", async () => {
    const unknown = "a".repeat(43)
    const root = mint()
    const child = grantOf(await refreshAt(root.refreshToken))
    const expiring = mint()
    const replies = [await refreshAt(unknown), await refreshAt(root.refreshToken), await refreshAt(child.refreshToken)]
    clock.advance(30 * 24 * 3600 * 1000)
    replies.push(await refreshAt(expiring.refreshToken))
    for (const [reply, token] of replies.map(
      (r, i) => [r, [unknown, root.refreshToken, child.refreshToken][i]] as const
    )) {
      expect(reply.status).toBe(401)
      expect(reply.json()).toEqual({ error: "invalid_grant", message: expect.any(String) })
      if (token !== undefined) expect(reply.text).not.toContain(token)
    }
    expect(sandbox.stats().rejected).toEqual({ unknown: 1, reused: 1, revoked: 1, expired: 1 })
  })

  it("answers 413 to a body over 64 KiB and keeps the connection usable", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    try {
      const big = await postJson(at("/gateway/auth/refresh"), { refreshToken: "x".repeat(100_000) }, { agent })
      expect(big.status).toBe(413)
      expect(big.json()).toMatchObject({ error: "payload_too_large" })
      const ok = await refresh(sandbox.url, mint().refreshToken, { agent })
      expect(ok.status).toBe(200)
      expect(sandbox.stats().tooLarge).toBe(1)
    } finally {
      agent.destroy()
    }
  })

  it("answers 413 to a chunked body once it passes 64 KiB", async () => {
    const reply = await send(at("/gateway/auth/refresh"), {
      method: "POST",
      headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
      body: Buffer.alloc(70 * 1024, "a")
    })
    expect(reply.status).toBe(413)
  })

  it("cuts off an endless upload instead of reading it", async () => {
    const outcome = await new Promise<number | string>((resolve) => {
      const req = request(at("/gateway/auth/refresh"), {
        method: "POST",
        headers: { "content-type": "application/json", "transfer-encoding": "chunked" }
      })
      req.on("response", (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      })
      req.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "error"))
      const chunk = Buffer.alloc(64 * 1024, "a")
      const pump = () => {
        while (!req.destroyed && req.write(chunk)) {}
        if (!req.destroyed) req.once("drain", pump)
      }
      pump()
    })
    expect([413, "ECONNRESET", "EPIPE"]).toContain(outcome)
    expect((await send(at("/healthz"))).status).toBe(200)
  })

  it("GET /sandbox/whoami answers the subject of a valid access token, 401 otherwise", async () => {
    const grant = sandbox.authority.mintSession("alice")
    const whoami = (authorization?: string) =>
      send(at("/sandbox/whoami"), { headers: authorization === undefined ? {} : { authorization } })
    const ok = await whoami(`Bearer ${grant.accessToken}`)
    expect(ok.status).toBe(200)
    expect(ok.json()).toEqual({ sub: "alice" })
    const missing = await whoami()
    expect(missing.status).toBe(401)
    expect(missing.headers["www-authenticate"]).toContain("Bearer")
    expect((await whoami("Bearer not.a.jwt")).status).toBe(401)
    expect((await whoami(`Basic ${grant.accessToken}`)).status).toBe(401)
    const stranger = await SandboxServer.start()
    try {
      const foreign = await whoami(`Bearer ${stranger.authority.mintSession().accessToken}`)
      expect(foreign.json()).toMatchObject({ error: "invalid_token" })
    } finally {
      await stranger.stop()
    }
    clock.advance(3600 * 1000)
    const expired = await whoami(`Bearer ${grant.accessToken}`)
    expect(expired.status).toBe(401)
    expect(expired.headers["www-authenticate"]).toContain('error="invalid_token"')
  })

  it("answers 404 to unknown routes", async () => {
    for (const path of ["/", "/gateway/auth", "/gateway/auth/refresh/extra", "/nope?x=1"]) {
      expect((await send(at(path), { method: "POST" })).status).toBe(404)
    }
  })

  const allowed: Record<string, string> = {
    "/gateway/auth/refresh": "POST",
    "/sandbox/whoami": "GET",
    "/sandbox/sessions": "POST",
    "/sandbox/inspect": "POST",
    "/sandbox/stats": "GET",
    "/sandbox/faults": "POST, DELETE",
    "/sandbox/rate-limit": "POST",
    "/healthz": "GET"
  }

  it.each(Object.entries(allowed))("answers 405 to other methods on %s, allowing %s", async (path, allow) => {
    const others = ["GET", "POST", "PUT", "DELETE", "PATCH"].filter((method) => !allow.split(", ").includes(method))
    for (const method of others) {
      const reply = await send(at(path), { method })
      expect(reply.status, `${method} ${path}`).toBe(405)
      expect(reply.headers.allow).toBe(allow)
    }
  })

  it("ignores a query string when routing", async () => {
    expect((await refresh(`${sandbox.url}`, mint().refreshToken)).status).toBe(200)
    const reply = await postJson(at("/gateway/auth/refresh?trace=1"), { refreshToken: mint().refreshToken })
    expect(reply.status).toBe(200)
  })

  it("GET /sandbox/stats counts requests, outcomes and faults", async () => {
    await send(at("/sandbox/sessions"), { method: "POST" })
    const root = mint()
    await refreshAt(root.refreshToken)
    await refreshAt(root.refreshToken)
    await refreshAt("unknown")
    await postJson(at("/gateway/auth/refresh"), {})
    sandbox.faults.inject({ type: "status", status: 503 })
    await refreshAt("whatever")
    const reply = await send(at("/sandbox/stats"))
    expect(reply.status).toBe(200)
    expect(reply.json()).toEqual({
      refreshRequests: 5,
      granted: 1,
      rotationsLost: 0,
      rejected: { unknown: 1, expired: 0, revoked: 0, reused: 1 },
      invalidRequests: 1,
      tooLarge: 0,
      sessionsMinted: 1,
      rateLimited: 0,
      connections: { open: 1, peak: 1, total: 1 },
      faultsInjected: { latency: 0, hang: 0, reset: 0, malformed: 0, status: { 503: 1 } },
      refreshTokensRemembered: 3
    })
    expect(sandbox.stats()).toEqual(reply.json())
  })
})

describe("SandboxServer faults", () => {
  it("a status fault before processing leaves the token unspent", async () => {
    const { refreshToken } = mint()
    expect((await inject({ type: "status", status: 503 })).status).toBe(204)
    const failed = await refreshAt(refreshToken)
    expect(failed.status).toBe(503)
    expect(failed.text).not.toContain(refreshToken)
    expect((await refreshAt(refreshToken)).status).toBe(200)
  })

  it("a 429 fault carries Retry-After", async () => {
    await inject({ type: "status", status: 429, retryAfter: 2, times: 2 })
    for (let i = 0; i < 2; i++) {
      const reply = await refreshAt(mint().refreshToken)
      expect(reply.status).toBe(429)
      expect(reply.headers["retry-after"]).toBe("2")
      expect(reply.json()).toMatchObject({ error: "rate_limited" })
    }
    expect((await refreshAt(mint().refreshToken)).status).toBe(200)
  })

  it("an after-phase fault spends the token, then fails the response", async () => {
    const { refreshToken } = mint()
    sandbox.faults.inject({ type: "status", status: 502, phase: "after" })
    expect((await refreshAt(refreshToken)).status).toBe(502)
    expect(sandbox.stats().granted).toBe(1)
    expect((await refreshAt(refreshToken)).status).toBe(401)
    expect(sandbox.stats().rejected.reused).toBe(1)
  })

  it("POST /sandbox/inspect tells whether a token's rotation reached the client, without spending it", async () => {
    const inspect = async (refreshToken: string) => (await postJson(at("/sandbox/inspect"), { refreshToken })).json()
    const delivered = mint()
    expect(await inspect(delivered.refreshToken)).toEqual({ state: "live", rotation: "none" })
    expect((await refreshAt(delivered.refreshToken)).status).toBe(200)
    expect(await inspect(delivered.refreshToken)).toEqual({ state: "spent", rotation: "delivered" })

    const lost = mint()
    sandbox.faults.inject({ type: "status", status: 503, phase: "after" })
    expect((await refreshAt(lost.refreshToken)).status).toBe(503)
    expect(await inspect(lost.refreshToken)).toEqual({ state: "spent", rotation: "lost" })
    expect((await refreshAt(lost.refreshToken)).status).toBe(401)
    expect(await inspect(lost.refreshToken)).toEqual({ state: "revoked", rotation: "lost" })

    const untouched = mint()
    sandbox.faults.inject({ type: "status", status: 503 })
    expect((await refreshAt(untouched.refreshToken)).status).toBe(503)
    expect(await inspect(untouched.refreshToken)).toEqual({ state: "live", rotation: "none" })
    expect(await inspect("unknown")).toEqual({ state: "unknown", rotation: "none" })
    expect((await postJson(at("/sandbox/inspect"), {})).status).toBe(400)
    expect(sandbox.stats().rotationsLost).toBe(1)
    expect(sandbox.delivery(lost.refreshToken)).toBe("lost")
  })

  it("a latency fault delays the answer", async () => {
    sandbox.faults.inject({ type: "latency", ms: 60 })
    const started = performance.now()
    expect((await refreshAt(mint().refreshToken)).status).toBe(200)
    expect(performance.now() - started).toBeGreaterThanOrEqual(55)
  })

  it("a hang never answers: the client's abort ends it and the server carries on", async () => {
    sandbox.faults.inject({ type: "hang" })
    const { refreshToken } = mint()
    const hung = refresh(sandbox.url, refreshToken, { signal: AbortSignal.timeout(100) })
    expect(await errorCode(hung)).toBe("ABORT_ERR")
    expect((await refreshAt(refreshToken)).status).toBe(200)
    expect(sandbox.stats().faultsInjected.hang).toBe(1)
  })

  it("stop() ends hung connections at once", async () => {
    sandbox.faults.inject({ type: "hang" }, 3)
    const hung = Array.from({ length: 3 }, () => errorCode(refreshAt(mint().refreshToken)))
    while (sandbox.faults.pending() > 0) await new Promise((resolve) => setTimeout(resolve, 5))
    const started = performance.now()
    await sandbox.stop()
    expect(performance.now() - started).toBeLessThan(1000)
    expect(await Promise.all(hung)).toEqual(["ECONNRESET", "ECONNRESET", "ECONNRESET"])
  })

  it("a reset destroys the socket without a response", async () => {
    sandbox.faults.inject({ type: "reset" })
    const { refreshToken } = mint()
    expect(await errorCode(refreshAt(refreshToken))).toBe("ECONNRESET")
    expect((await refreshAt(refreshToken)).status).toBe(200)
  })

  it("a reset after processing loses the response of a rotation", async () => {
    sandbox.faults.inject({ type: "reset", phase: "after" })
    const { refreshToken } = mint()
    expect(await errorCode(refreshAt(refreshToken))).toBe("ECONNRESET")
    expect((await refreshAt(refreshToken)).status).toBe(401)
  })

  it("a malformed fault answers 200 with a body off the spec", async () => {
    await inject({ type: "malformed" })
    await inject({ type: "malformed", body: '{"unexpected":true}' })
    const first = await refreshAt(mint().refreshToken)
    expect(first.status).toBe(200)
    expect(first.headers["content-type"]).toBe("application/json")
    expect(() => first.json()).toThrow(SyntaxError)
    const second = await refreshAt(mint().refreshToken)
    expect(second.json()).toEqual({ unexpected: true })
  })

  it("rates set over HTTP apply until DELETE /sandbox/faults", async () => {
    expect((await postJson(at("/sandbox/faults"), { rates: { statusRates: { 500: 1 } } })).status).toBe(204)
    expect((await refreshAt(mint().refreshToken)).status).toBe(500)
    expect((await refreshAt(mint().refreshToken)).status).toBe(500)
    expect((await send(at("/sandbox/faults"), { method: "DELETE" })).status).toBe(204)
    expect((await refreshAt(mint().refreshToken)).status).toBe(200)
    expect(sandbox.stats().faultsInjected.status).toEqual({ 500: 2 })
  })

  it("rates given at start apply from the first request", async () => {
    const faulty = await SandboxServer.start({ faults: { rateLimitRate: 1, retryAfterSeconds: 9 } })
    try {
      const reply = await refresh(faulty.url, faulty.authority.mintSession().refreshToken)
      expect(reply.status).toBe(429)
      expect(reply.headers["retry-after"]).toBe("9")
    } finally {
      await faulty.stop()
    }
  })

  it.each([
    ["an unknown fault type", { type: "explode" }],
    ["a bad status", { type: "status", status: 42 }],
    ["a bad times", { type: "hang", times: 0 }],
    ["an unknown field", { type: "hang", often: true }],
    ["rates above 1", { rates: { hangRate: 0.7, resetRate: 0.7 } }],
    ["not an object", [1, 2]]
  ])("POST /sandbox/faults refuses %s with 400", async (_, body) => {
    const reply = await postJson(at("/sandbox/faults"), body)
    expect(reply.status).toBe(400)
    expect(reply.json()).toMatchObject({ error: "invalid_request" })
    expect(sandbox.faults.pending()).toBe(0)
  })

  it("faults touch the refresh endpoint only", async () => {
    sandbox.faults.inject({ type: "reset" })
    expect((await send(at("/healthz"))).status).toBe(200)
    expect((await send(at("/sandbox/sessions"), { method: "POST" })).status).toBe(201)
    expect(sandbox.faults.pending()).toBe(1)
  })
})

describe("SandboxServer rate limit and outages", () => {
  it("beyond rateLimitRps refresh requests in a second, answers 429 with Retry-After without spending the token", async () => {
    const limited = await SandboxServer.start({ now: clock.now, rateLimitRps: 2 })
    try {
      const tokens = [limited.authority.mintSession(), limited.authority.mintSession(), limited.authority.mintSession()]
      const replies = []
      for (const { refreshToken } of tokens) replies.push(await refresh(limited.url, refreshToken))
      expect(replies.map((reply) => reply.status)).toEqual([200, 200, 429])
      expect(replies[2]!.headers["retry-after"]).toBe("1")
      expect(replies[2]!.json()).toMatchObject({ error: "rate_limited" })
      expect(replies[2]!.text).not.toContain(tokens[2]!.refreshToken)
      clock.advance(1000)
      expect((await refresh(limited.url, tokens[2]!.refreshToken)).status).toBe(200)
      expect(limited.stats()).toMatchObject({ refreshRequests: 4, granted: 3, rateLimited: 1 })
    } finally {
      await limited.stop()
    }
  })

  it("POST /sandbox/rate-limit changes the limit at run time; 0 turns it off", async () => {
    expect((await postJson(at("/sandbox/rate-limit"), { requestsPerSecond: 1 })).status).toBe(204)
    expect((await refreshAt(mint().refreshToken)).status).toBe(200)
    expect((await refreshAt(mint().refreshToken)).status).toBe(429)
    expect(sandbox.rateLimit.requestsPerSecond()).toBe(1)
    expect((await postJson(at("/sandbox/rate-limit"), { requestsPerSecond: 0 })).status).toBe(204)
    expect((await refreshAt(mint().refreshToken)).status).toBe(200)
    for (const bad of [{ requestsPerSecond: -1 }, { requestsPerSecond: 1.5 }, {}, []]) {
      expect((await postJson(at("/sandbox/rate-limit"), bad)).status).toBe(400)
    }
    expect((await send(at("/sandbox/rate-limit"))).status).toBe(405)
  })

  it("an outage set over HTTP answers every refresh with its fault until its time is up", async () => {
    const outage = { outage: { fault: { type: "status", status: 503, retryAfter: 3 }, ms: 2_000 } }
    expect((await postJson(at("/sandbox/faults"), outage)).status).toBe(204)
    for (let i = 0; i < 5; i++) {
      const reply = await refreshAt(mint().refreshToken)
      expect(reply.status).toBe(503)
      expect(reply.headers["retry-after"]).toBe("3")
    }
    clock.advance(2_000)
    expect((await refreshAt(mint().refreshToken)).status).toBe(200)
    expect(sandbox.stats().faultsInjected.status).toEqual({ 503: 5 })
  })

  it("an outage without ms lasts until DELETE /sandbox/faults; a bad one is a 400", async () => {
    expect((await postJson(at("/sandbox/faults"), { outage: { fault: { type: "status", status: 502 } } })).status).toBe(
      204
    )
    clock.advance(3_600_000)
    expect((await refreshAt(mint().refreshToken)).status).toBe(502)
    expect((await send(at("/sandbox/faults"), { method: "DELETE" })).status).toBe(204)
    expect((await refreshAt(mint().refreshToken)).status).toBe(200)
    const bad = await postJson(at("/sandbox/faults"), { outage: { fault: { type: "status", status: 503 }, ms: -5 } })
    expect(bad.status).toBe(400)
  })

  it("a hanging outage keeps every refresh open; stats count the connections, open and at their peak", async () => {
    sandbox.faults.startOutage({ fault: { type: "hang" } })
    const controller = new AbortController()
    const hung = Array.from({ length: 5 }, () =>
      refresh(sandbox.url, mint().refreshToken, { agent: false, signal: controller.signal }).catch(() => "aborted")
    )
    while (sandbox.stats().refreshRequests < 5) await new Promise((resolve) => setTimeout(resolve, 5))
    expect(sandbox.stats().connections).toMatchObject({ open: 5, peak: 5 })
    controller.abort()
    expect(await Promise.all(hung)).toEqual(Array(5).fill("aborted"))
    while (sandbox.stats().connections.open > 0) await new Promise((resolve) => setTimeout(resolve, 5))
    expect(sandbox.stats().connections).toEqual({ open: 0, peak: 5, total: 5 })
  })
})

describe("SandboxServer lifecycle", () => {
  it("stop() is idempotent and frees the port", async () => {
    const { url } = sandbox
    await Promise.all([sandbox.stop(), sandbox.stop()])
    expect(await errorCode(send(`${url}/healthz`, { agent: false }))).toBe("ECONNREFUSED")
  })

  it("start() rejects when the port is taken, and make() fails with SandboxStartError", async () => {
    await expect(SandboxServer.start({ port: sandbox.port })).rejects.toMatchObject({ code: "EADDRINUSE" })
    const exit = await Effect.runPromiseExit(Effect.scoped(SandboxServer.make({ port: sandbox.port })))
    expect(exit).toMatchObject(Exit.fail(expect.objectContaining({ _tag: "SandboxStartError" })))
  })

  it.live("the layer serves while its scope is open and stops with it", () =>
    Effect.gen(function* () {
      const url = yield* Effect.gen(function* () {
        const running = yield* SandboxServer.Sandbox
        const reply = yield* Effect.promise(() => send(`${running.url}/healthz`))
        expect(reply.status).toBe(200)
        return running.url
      }).pipe(Effect.provide(SandboxServer.layer({ reuseIntervalMs: 1000 })))
      expect(yield* Effect.promise(() => errorCode(send(`${url}/healthz`, { agent: false })))).toBe("ECONNREFUSED")
    })
  )

  it.live("make() is scoped", () =>
    Effect.gen(function* () {
      const url = yield* Effect.scoped(
        Effect.map(SandboxServer.make(), (running) => {
          expect(running.authority.options.reuseIntervalMs).toBe(0)
          return running.url
        })
      )
      expect(yield* Effect.promise(() => errorCode(send(`${url}/healthz`, { agent: false })))).toBe("ECONNREFUSED")
    })
  )
})
