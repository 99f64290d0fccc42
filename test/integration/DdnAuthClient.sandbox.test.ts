import { DdnAuthClient } from "@ddn/auth"
import { DdnAuthNode } from "@ddn/auth/node"
import { SandboxServer } from "@ddn/sandbox"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Logger from "effect/Logger"
import * as Redacted from "effect/Redacted"

/** The core client over undici against the real sandbox on loopback. */
describe("DdnAuthClient against the sandbox", () => {
  let sandbox: SandboxServer.RunningSandbox
  beforeAll(async () => {
    sandbox = await SandboxServer.start()
  })
  afterAll(() => sandbox.stop())
  beforeEach(() => sandbox.faults.reset())

  const refresh = (token: string, options: Partial<DdnAuthClient.Options> = {}) =>
    Effect.flatMap(DdnAuthClient.DdnAuthClient, (client) => client.refresh(Redacted.make(token))).pipe(
      Effect.provide(
        DdnAuthNode.layerOptions({
          apiUrl: sandbox.url,
          attemptTimeout: "500 millis",
          retryBaseDelay: "20 millis",
          ...options
        })
      )
    )

  const failureTag = (exit: Exit.Exit<unknown, { readonly _tag: string }>) =>
    Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error._tag : String(exit)

  it.live("follows a chain of 100 rotations", () =>
    Effect.gen(function* () {
      let token = sandbox.authority.mintSession().refreshToken
      const seen = new Set<string>([token])
      for (let i = 0; i < 100; i++) {
        const grant = yield* refresh(token)
        token = Redacted.value(grant.refreshToken)
        expect(seen.has(token)).toBe(false)
        seen.add(token)
        expect(sandbox.authority.verifyAccessToken(Redacted.value(grant.accessToken))._tag).toBe("Valid")
      }
    })
  )

  it.live("reuse of a spent token → RefreshTokenExpired, and the whole family is revoked", () =>
    Effect.gen(function* () {
      const first = sandbox.authority.mintSession().refreshToken
      const child = Redacted.value((yield* refresh(first)).refreshToken)
      expect(failureTag(yield* Effect.exit(refresh(first)))).toBe("RefreshTokenExpired")
      expect(failureTag(yield* Effect.exit(refresh(child)))).toBe("RefreshTokenExpired")
    })
  )

  it.live("an unknown token → RefreshTokenExpired; a malformed one is refused locally", () =>
    Effect.gen(function* () {
      const before = sandbox.stats().refreshRequests
      expect(failureTag(yield* Effect.exit(refresh("never-issued")))).toBe("RefreshTokenExpired")
      expect(failureTag(yield* Effect.exit(refresh("bad\ntoken")))).toBe("InvalidInput")
      expect(sandbox.stats().refreshRequests).toBe(before + 1)
    })
  )

  it.live.each([500, 502, 503, 504, 408])("%i twice, then success → the grant", (status) =>
    Effect.gen(function* () {
      sandbox.faults.inject({ type: "status", status }, 2)
      const grant = yield* refresh(sandbox.authority.mintSession().refreshToken)
      expect(grant.tokenType).toBe("Bearer")
      expect(sandbox.stats().faultsInjected.status[status]).toBeGreaterThanOrEqual(2)
    })
  )

  it.live("503 every time → UpstreamUnavailable after 4 attempts", () =>
    Effect.gen(function* () {
      const before = sandbox.stats().refreshRequests
      sandbox.faults.inject({ type: "status", status: 503 }, 10)
      const exit = yield* Effect.exit(refresh(sandbox.authority.mintSession().refreshToken))
      expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" && exit.cause.error).toMatchObject({
        _tag: "UpstreamUnavailable",
        reason: "Status",
        status: 503,
        attempts: 4
      })
      expect(sandbox.stats().refreshRequests - before).toBe(4)
    })
  )

  it.live("429 with Retry-After: 1 → waits, then the grant", () =>
    Effect.gen(function* () {
      sandbox.faults.inject({ type: "status", status: 429, retryAfter: 1 })
      const started = Date.now()
      yield* refresh(sandbox.authority.mintSession().refreshToken)
      expect(Date.now() - started).toBeGreaterThanOrEqual(950)
    })
  )

  it.live("429 with a Retry-After beyond the deadline → RateLimited at once", () =>
    Effect.gen(function* () {
      sandbox.faults.inject({ type: "status", status: 429, retryAfter: 60 })
      const exit = yield* Effect.exit(refresh(sandbox.authority.mintSession().refreshToken))
      expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" && exit.cause.error).toMatchObject({
        _tag: "RateLimited"
      })
    })
  )

  it.live("a hang is cut by the per-attempt timeout, then retried", () =>
    Effect.gen(function* () {
      sandbox.faults.inject({ type: "hang" })
      const grant = yield* refresh(sandbox.authority.mintSession().refreshToken, { attemptTimeout: "200 millis" })
      expect(grant.expiresIn).toBeGreaterThan(0)
    })
  )

  it.live("hanging every time → UpstreamUnavailable within the deadline", () =>
    Effect.gen(function* () {
      sandbox.faults.inject({ type: "hang" }, 20)
      const started = Date.now()
      const exit = yield* Effect.exit(
        refresh(sandbox.authority.mintSession().refreshToken, { attemptTimeout: "2 seconds", deadline: "600 millis" })
      )
      expect(failureTag(exit)).toBe("UpstreamUnavailable")
      expect(Date.now() - started).toBeLessThan(2000)
    })
  )

  it.live("a connection reset is retried", () =>
    Effect.gen(function* () {
      sandbox.faults.inject({ type: "reset" })
      const grant = yield* refresh(sandbox.authority.mintSession().refreshToken)
      expect(grant.tokenType).toBe("Bearer")
    })
  )

  it.live("a malformed 200 → UpstreamBadResponse, not retried", () =>
    Effect.gen(function* () {
      const before = sandbox.stats().refreshRequests
      sandbox.faults.inject({ type: "malformed" }, 3)
      const exit = yield* Effect.exit(refresh(sandbox.authority.mintSession().refreshToken))
      expect(failureTag(exit)).toBe("UpstreamBadResponse")
      expect(sandbox.stats().refreshRequests - before).toBe(1)
    })
  )

  it.live("a response lost after rotation → retry gets 401, with a warning, never the token", () =>
    Effect.gen(function* () {
      const lines: Array<string> = []
      const capture = Logger.replace(
        Logger.defaultLogger,
        Logger.make((options) => lines.push(Logger.logfmtLogger.log(options)))
      )
      const token = sandbox.authority.mintSession().refreshToken
      sandbox.faults.inject({ type: "reset", phase: "after" })
      const exit = yield* Effect.exit(refresh(token).pipe(Effect.provide(capture)))
      expect(failureTag(exit)).toBe("RefreshTokenExpired")
      expect(lines.some((line) => line.includes("level=WARN") && line.includes("may have rotated"))).toBe(true)
      expect(lines.join("\n")).not.toContain(token)
    })
  )

  it.live("latency within the deadline is just latency", () =>
    Effect.gen(function* () {
      sandbox.faults.inject({ type: "latency", ms: 100 })
      const grant = yield* refresh(sandbox.authority.mintSession().refreshToken)
      expect(grant.tokenType).toBe("Bearer")
    })
  )

  it.live("a stopped upstream → UpstreamUnavailable (Transport)", () =>
    Effect.gen(function* () {
      const gone = yield* Effect.promise(() => SandboxServer.start())
      const token = gone.authority.mintSession().refreshToken
      yield* Effect.promise(() => gone.stop())
      const exit = yield* Effect.flatMap(DdnAuthClient.DdnAuthClient, (client) =>
        client.refresh(Redacted.make(token))
      ).pipe(Effect.provide(DdnAuthNode.layerOptions({ apiUrl: gone.url, retryBaseDelay: "10 millis" })), Effect.exit)
      expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" && exit.cause.error).toMatchObject({
        _tag: "UpstreamUnavailable",
        reason: "Transport",
        attempts: 4
      })
    })
  )
})
