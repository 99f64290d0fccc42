import { describe, expect, it } from "vitest"
import type * as Jwt from "../src/Jwt.js"
import * as TokenAuthority from "../src/TokenAuthority.js"
import { manualClock } from "./utils/clock.js"

const setup = (options: Partial<TokenAuthority.Options> = {}) => {
  const clock = manualClock()
  return { clock, authority: TokenAuthority.make({ now: clock.now, ...options }) }
}

const granted = (result: TokenAuthority.RefreshResult): TokenAuthority.Grant => {
  if (result._tag !== "Granted") throw new Error(`expected a grant, got ${result.reason}`)
  return result.grant
}

const rejected = (reason: TokenAuthority.RejectionReason) => ({ _tag: "Rejected", reason })

const day = 24 * 3600 * 1000

describe("TokenAuthority", () => {
  it("mints a session: an opaque refresh token and a signed access token for the subject", () => {
    const { authority, clock } = setup()
    const grant = authority.mintSession("alice")
    expect(grant.tokenType).toBe("Bearer")
    expect(grant.expiresIn).toBe(3600)
    expect(grant.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(authority.verifyAccessToken(grant.accessToken)).toEqual({ _tag: "Valid", subject: "alice" })
    const claims = JSON.parse(Buffer.from(grant.accessToken.split(".")[1]!, "base64url").toString()) as Jwt.Claims
    expect(claims.iss).toBe("ddn-sandbox")
    expect(claims.iat).toBe(clock.now() / 1000)
    expect(claims.exp - claims.iat).toBe(3600)
    expect(authority.mintSession().refreshToken).not.toBe(grant.refreshToken)
  })

  it("names subjects user-1, user-2, ... by default", () => {
    const { authority } = setup()
    const subject = (grant: TokenAuthority.Grant) => authority.verifyAccessToken(grant.accessToken)
    expect(subject(authority.mintSession())).toEqual({ _tag: "Valid", subject: "user-1" })
    expect(subject(authority.mintSession())).toEqual({ _tag: "Valid", subject: "user-2" })
  })

  it("rotates: a refresh returns a new pair for the same subject", () => {
    const { authority } = setup({ accessTokenTtlSeconds: 600 })
    const first = authority.mintSession("bob")
    const second = granted(authority.refresh(first.refreshToken))
    expect(second.refreshToken).not.toBe(first.refreshToken)
    expect(second.accessToken).not.toBe(first.accessToken)
    expect(second.expiresIn).toBe(600)
    expect(authority.verifyAccessToken(second.accessToken)).toEqual({ _tag: "Valid", subject: "bob" })
    granted(authority.refresh(second.refreshToken))
  })

  it("rejects unknown tokens", () => {
    const { authority } = setup()
    expect(authority.refresh("not-a-token")).toEqual(rejected("unknown"))
    expect(authority.refresh("")).toEqual(rejected("unknown"))
  })

  it("treats a refresh token as single-use: reuse revokes the whole family, rotated children included", () => {
    const { authority } = setup()
    const root = authority.mintSession()
    const child = granted(authority.refresh(root.refreshToken))
    const grandchild = granted(authority.refresh(child.refreshToken))
    const bystander = authority.mintSession()

    expect(authority.refresh(root.refreshToken)).toEqual(rejected("reused"))
    expect(authority.refresh(grandchild.refreshToken)).toEqual(rejected("revoked"))
    expect(authority.refresh(child.refreshToken)).toEqual(rejected("revoked"))
    expect(authority.refresh(root.refreshToken)).toEqual(rejected("revoked"))
    granted(authority.refresh(bystander.refreshToken))
  })

  it("with no reuse interval, even an immediate replay is reuse", () => {
    const { authority } = setup()
    const root = authority.mintSession()
    const child = granted(authority.refresh(root.refreshToken))
    expect(authority.refresh(root.refreshToken)).toEqual(rejected("reused"))
    expect(authority.refresh(child.refreshToken)).toEqual(rejected("revoked"))
  })

  it("inside the reuse interval, a spent token returns the grant of its first use", () => {
    const { authority, clock } = setup({ reuseIntervalMs: 10_000 })
    const root = authority.mintSession()
    const first = granted(authority.refresh(root.refreshToken))
    clock.advance(9_999)
    expect(granted(authority.refresh(root.refreshToken))).toBe(first)
    granted(authority.refresh(first.refreshToken))
    expect(granted(authority.refresh(root.refreshToken))).toBe(first)
  })

  it("says whether a grant spent the token or replayed its first use", () => {
    const { authority } = setup({ reuseIntervalMs: 10_000 })
    const root = authority.mintSession()
    expect(authority.refresh(root.refreshToken)).toMatchObject({ _tag: "Granted", rotated: true })
    expect(authority.refresh(root.refreshToken)).toMatchObject({ _tag: "Granted", rotated: false })
  })

  it("past the reuse interval, reuse revokes the family", () => {
    const { authority, clock } = setup({ reuseIntervalMs: 10_000 })
    const root = authority.mintSession()
    const child = granted(authority.refresh(root.refreshToken))
    clock.advance(10_000)
    expect(authority.refresh(root.refreshToken)).toEqual(rejected("reused"))
    expect(authority.refresh(child.refreshToken)).toEqual(rejected("revoked"))
  })

  it("inspects a token without spending it: live, spent, revoked, expired, unknown", () => {
    const { authority, clock } = setup({ refreshTokenTtlSeconds: 3600 })
    const root = authority.mintSession()
    expect(authority.inspect(root.refreshToken)).toEqual({ state: "live", spent: false })
    expect(authority.inspect(root.refreshToken)).toEqual({ state: "live", spent: false })
    const child = granted(authority.refresh(root.refreshToken))
    expect(authority.inspect(root.refreshToken)).toEqual({ state: "spent", spent: true })
    expect(authority.inspect(child.refreshToken)).toEqual({ state: "live", spent: false })
    expect(authority.refresh(root.refreshToken)).toEqual(rejected("reused"))
    expect(authority.inspect(root.refreshToken)).toEqual({ state: "revoked", spent: true })
    expect(authority.inspect(child.refreshToken)).toEqual({ state: "revoked", spent: false })
    const other = authority.mintSession()
    clock.advance(3600 * 1000)
    expect(authority.inspect(other.refreshToken)).toEqual({ state: "expired", spent: false })
    expect(authority.inspect("not-a-token")).toEqual({ state: "unknown", spent: false })
  })

  it("expires refresh tokens refreshTokenTtlSeconds after issue", () => {
    const { authority, clock } = setup({ refreshTokenTtlSeconds: 3600 })
    const early = authority.mintSession()
    const late = authority.mintSession()
    clock.advance(3600 * 1000 - 1)
    granted(authority.refresh(early.refreshToken))
    clock.advance(1)
    expect(authority.refresh(late.refreshToken)).toEqual(rejected("expired"))
  })

  it("defaults to a 30-day refresh token lifetime", () => {
    const { authority, clock } = setup()
    const a = authority.mintSession()
    const b = authority.mintSession()
    clock.advance(30 * day - 1)
    granted(authority.refresh(a.refreshToken))
    clock.advance(1)
    expect(authority.refresh(b.refreshToken)).toEqual(rejected("expired"))
  })

  it("verifies access tokens: valid, expired, foreign signature, malformed", () => {
    const { authority, clock } = setup({ accessTokenTtlSeconds: 60 })
    const grant = authority.mintSession("carol")
    expect(authority.verifyAccessToken(grant.accessToken)).toEqual({ _tag: "Valid", subject: "carol" })
    const other = TokenAuthority.make({ now: clock.now }).mintSession("carol")
    expect(authority.verifyAccessToken(other.accessToken)).toEqual({ _tag: "Invalid", reason: "bad_signature" })
    expect(authority.verifyAccessToken("garbage")).toEqual({ _tag: "Invalid", reason: "malformed" })
    clock.advance(60_000)
    expect(authority.verifyAccessToken(grant.accessToken)).toEqual({ _tag: "Invalid", reason: "expired" })
  })

  it("shares access tokens between authorities given the same secret", () => {
    const { authority, clock } = setup({ secret: "shared" })
    const peer = TokenAuthority.make({ now: clock.now, secret: "shared" })
    expect(peer.verifyAccessToken(authority.mintSession("dan").accessToken)).toEqual({ _tag: "Valid", subject: "dan" })
  })

  it("reports expired tokens as expired for one more lifetime, then forgets them, so memory stays bounded", () => {
    const { authority, clock } = setup({ refreshTokenTtlSeconds: 60 })
    const tokens = Array.from({ length: 1000 }, () => authority.mintSession().refreshToken)
    for (const token of tokens.slice(0, 500)) granted(authority.refresh(token))
    authority.refresh(tokens[0]!)
    expect(authority.size()).toBe(1500)
    clock.advance(60_000)
    expect(authority.refresh(tokens[998]!)).toEqual(rejected("expired"))
    expect(authority.size()).toBe(1500)
    clock.advance(60_000)
    authority.mintSession()
    expect(authority.size()).toBe(1)
    expect(authority.refresh(tokens[999]!)).toEqual(rejected("unknown"))
  })

  it("keeps an expired token for at most a day (plus the sweep's one-second granularity)", () => {
    const { authority, clock } = setup()
    const { refreshToken } = authority.mintSession()
    clock.advance(31 * day - 1)
    expect(authority.refresh(refreshToken)).toEqual(rejected("expired"))
    clock.advance(1000)
    expect(authority.refresh(refreshToken)).toEqual(rejected("unknown"))
  })

  it("sweeps gradually: only what is past retention goes", () => {
    const { authority, clock } = setup({ refreshTokenTtlSeconds: 10 })
    for (let second = 0; second < 30; second++) {
      authority.mintSession()
      clock.advance(1000)
    }
    authority.mintSession()
    expect(authority.size()).toBe(20)
  })

  it("remembers at most reuseDetectionDepth spent tokens per session", () => {
    const { authority } = setup({ reuseDetectionDepth: 10 })
    const chain = [authority.mintSession().refreshToken]
    for (let i = 0; i < 1000; i++) chain.push(granted(authority.refresh(chain.at(-1)!)).refreshToken)
    expect(authority.size()).toBe(11)
    expect(authority.refresh(chain[0]!)).toEqual(rejected("unknown"))
    expect(authority.refresh(chain.at(-5)!)).toEqual(rejected("reused"))
    expect(authority.refresh(chain.at(-1)!)).toEqual(rejected("revoked"))
  })

  it("refuses nonsensical options", () => {
    expect(() => TokenAuthority.make({ accessTokenTtlSeconds: 0 })).toThrow(RangeError)
    expect(() => TokenAuthority.make({ refreshTokenTtlSeconds: 1.5 })).toThrow(RangeError)
    expect(() => TokenAuthority.make({ reuseIntervalMs: -1 })).toThrow(RangeError)
    expect(() => TokenAuthority.make({ reuseDetectionDepth: 0 })).toThrow(RangeError)
  })
})
