import { RefreshError, TokenGrant } from "@ddn/auth"
import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as Redacted from "effect/Redacted"
import type { GraphQLError } from "graphql"
import * as RefreshResult from "../src/RefreshResult.js"

const grant = new TokenGrant.TokenGrant({
  accessToken: Redacted.make("access-secret"),
  refreshToken: Redacted.make("refresh-secret"),
  expiresIn: 3600,
  tokenType: "Bearer",
  expiresAt: DateTime.unsafeMake(Date.UTC(2030, 0, 1, 12))
})

const errorOf = (resolution: RefreshResult.Resolution): GraphQLError => {
  if (!("error" in resolution)) throw new Error("expected an error")
  return resolution.error
}

describe("RefreshResult", () => {
  it("maps a grant to a TokenPair with the tokens in clear and expiresAt as a Date", () => {
    expect(RefreshResult.fromExit(Exit.succeed(grant))).toEqual({
      outcome: "success",
      value: {
        __typename: "TokenPair",
        accessToken: "access-secret",
        refreshToken: "refresh-secret",
        expiresIn: 3600,
        tokenType: "Bearer",
        expiresAt: new Date("2030-01-01T12:00:00.000Z")
      }
    })
  })

  it.each([
    ["upstream", "success"],
    ["reused", "reused"],
    ["coalesced", "coalesced"]
  ] as const)("counts a grant from %s as %s", (source, outcome) => {
    const resolution = RefreshResult.fromExit(Exit.succeed({ grant, source }))
    expect(resolution.outcome).toBe(outcome)
    expect(resolution).toMatchObject({ value: { __typename: "TokenPair", refreshToken: "refresh-secret" } })
  })

  it("counts an interruption as aborted when the client went away, as internal otherwise", () => {
    const interrupted = Exit.interrupt(FiberId.none) as Exit.Exit<never, never>
    expect(RefreshResult.fromExit(interrupted, true).outcome).toBe("aborted")
    expect(RefreshResult.fromExit(interrupted, false).outcome).toBe("internal")
    expect(RefreshResult.fromExit(Exit.die(new Error("bug")) as Exit.Exit<never, never>, true).outcome).toBe("internal")
    expect(RefreshResult.fromExit(Exit.fail(new RefreshError.RefreshTokenExpired()), true).outcome).toBe("expired")
  })

  it("lists every outcome once, gateway refusals apart from DDN's own 429", () => {
    expect(new Set(RefreshResult.outcomes).size).toBe(RefreshResult.outcomes.length)
    expect(RefreshResult.outcomes).toEqual(expect.arrayContaining(["rate_limited", "upstream_rate_limited", "aborted"]))
  })

  it.each([
    [new RefreshError.RefreshTokenInvalid(), "invalid", "INVALID"],
    [new RefreshError.RefreshTokenExpired(), "expired", "EXPIRED"]
  ] as const)("maps %s to RefreshTokenRejected data", (error, outcome, reason) => {
    const resolution = RefreshResult.fromExit(Exit.fail(error))
    expect(resolution).toMatchObject({ outcome, value: { __typename: "RefreshTokenRejected", reason } })
  })

  it.each([
    [new RefreshError.InvalidInput({ reason: "Empty" }), "bad_input", { code: "BAD_USER_INPUT" }],
    [
      new RefreshError.UpstreamUnavailable({ reason: "Timeout", attempts: 4 }),
      "unavailable",
      { code: "UPSTREAM_UNAVAILABLE", retryable: true }
    ],
    [
      new RefreshError.RateLimited({ retryAfter: Duration.millis(2_300) }),
      "upstream_rate_limited",
      { code: "RATE_LIMITED", retryAfterSeconds: 3 }
    ],
    [
      new RefreshError.UpstreamBadResponse({ status: 200, issues: ["accessToken: Missing"] }),
      "bad_response",
      { code: "UPSTREAM_BAD_RESPONSE" }
    ]
  ] as const)("maps %s to a top-level error with extensions", (error, outcome, extensions) => {
    const resolution = RefreshResult.fromExit(Exit.fail(error))
    expect(resolution.outcome).toBe(outcome)
    expect(errorOf(resolution).extensions).toEqual(extensions)
  })

  it("rounds retryAfterSeconds up to a whole second", () => {
    const resolution = RefreshResult.fromError(new RefreshError.RateLimited({ retryAfter: Duration.millis(1) }))
    expect(errorOf(resolution).extensions.retryAfterSeconds).toBe(1)
  })

  it("masks defects and interruptions as INTERNAL_SERVER_ERROR without detail", () => {
    for (const exit of [
      Exit.die(new Error("secret detail at stack")),
      Exit.interrupt(FiberId.none),
      Exit.failCause(Cause.die("boom"))
    ]) {
      const error = errorOf(RefreshResult.fromExit(exit as Exit.Exit<never, never>))
      expect(error.message).toBe("Internal server error")
      expect(error.extensions).toEqual({ code: "INTERNAL_SERVER_ERROR" })
      expect(JSON.stringify(error.toJSON())).not.toMatch(/secret|boom|stack/)
    }
  })

  it("never puts upstream detail in a message", () => {
    const resolution = RefreshResult.fromError(
      new RefreshError.UpstreamBadResponse({ status: 200, issues: ["accessToken: Expected string"] })
    )
    expect(errorOf(resolution).message).not.toContain("accessToken")
  })
})
