/**
 * The in-memory token state machine: sessions, rotation of single-use refresh tokens, reuse detection.
 *
 * @since 0.1.0
 */
import { randomBytes, randomUUID } from "node:crypto"
import * as Jwt from "./Jwt.js"

/**
 * Settings of a {@link TokenAuthority}; see {@link defaults}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Lifetime of an access token, in seconds. */
  readonly accessTokenTtlSeconds: number
  /** Lifetime of a refresh token from its issue, in seconds. */
  readonly refreshTokenTtlSeconds: number
  /** How long after its first use a spent refresh token still returns that use's grant; 0 disables. */
  readonly reuseIntervalMs: number
  /** How many spent refresh tokens per session are remembered for reuse detection. */
  readonly reuseDetectionDepth: number
  /** The clock, in milliseconds since the epoch. */
  readonly now: () => number
  /** The HS256 secret for access tokens; a fresh random one per authority when absent. */
  readonly secret?: string | Uint8Array
}

/**
 * Defaults: access tokens live 3600 s, refresh tokens 30 days, no reuse interval, the 100 most
 * recent spent tokens of each session are remembered, `Date.now` as the clock.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaults: Options = {
  accessTokenTtlSeconds: 3600,
  refreshTokenTtlSeconds: 30 * 24 * 3600,
  reuseIntervalMs: 0,
  reuseDetectionDepth: 100,
  now: Date.now
}

/**
 * A token pair, exactly the body of a 200 from `POST /gateway/auth/refresh`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Grant {
  readonly accessToken: string
  readonly refreshToken: string
  readonly expiresIn: number
  readonly tokenType: "Bearer"
}

/**
 * Why a refresh token was turned down.
 *
 * @since 0.1.0
 * @category models
 */
export type RejectionReason = "unknown" | "expired" | "revoked" | "reused"

/**
 * The outcome of {@link TokenAuthority.refresh}.
 *
 * @since 0.1.0
 * @category models
 */
export type RefreshResult =
  | {
      readonly _tag: "Granted"
      readonly grant: Grant
      /** True when this call spent the token; false when it replayed the grant within the reuse interval. */
      readonly rotated: boolean
    }
  | { readonly _tag: "Rejected"; readonly reason: RejectionReason }

/**
 * Where a refresh token stands, from {@link TokenAuthority.inspect}: `unknown` (never issued, or
 * forgotten), `revoked` (its session was revoked), `expired`, `spent` (already rotated) or `live`.
 *
 * @since 0.1.0
 * @category models
 */
export interface TokenStatus {
  readonly state: "unknown" | "revoked" | "expired" | "spent" | "live"
  /** Whether the token was rotated (spent), whatever its session became since. */
  readonly spent: boolean
}

/**
 * The outcome of {@link TokenAuthority.verifyAccessToken}.
 *
 * @since 0.1.0
 * @category models
 */
export type AccessTokenResult =
  | { readonly _tag: "Valid"; readonly subject: string }
  | { readonly _tag: "Invalid"; readonly reason: Jwt.InvalidReason }

/**
 * The sandbox's token state machine: mints sessions, rotates single-use refresh tokens, detects reuse
 * and verifies access tokens. Pure in-memory, synchronous, time read only through `options.now`.
 *
 * @since 0.1.0
 * @category models
 */
export interface TokenAuthority {
  readonly options: Options
  /** Starts a session for `subject` (default `user-<n>`) and returns its first grant. */
  readonly mintSession: (subject?: string) => Grant
  /** Spends a refresh token: a new grant on success, a reason otherwise. */
  readonly refresh: (refreshToken: string) => RefreshResult
  /** Where a refresh token stands, without spending it (for soaks and tests). */
  readonly inspect: (refreshToken: string) => TokenStatus
  /** Checks an access token's signature and expiry and returns its subject. */
  readonly verifyAccessToken: (accessToken: string) => AccessTokenResult
  /** How many refresh tokens are remembered (live, spent or revoked), for memory checks. */
  readonly size: () => number
}

interface Family {
  readonly subject: string
  revoked: boolean
  readonly spent: Array<string>
}

interface RefreshRecord {
  readonly family: Family
  readonly expiresAt: number
  spentAt: number | undefined
  successor: Grant | undefined
}

const sweepIntervalMs = 1000
const expiredRetentionCapMs = 24 * 3600 * 1000

const validate = (options: Options): void => {
  const positive = ["accessTokenTtlSeconds", "refreshTokenTtlSeconds", "reuseDetectionDepth"] as const
  for (const name of positive) {
    if (!Number.isSafeInteger(options[name]) || options[name] < 1) {
      throw new RangeError(`TokenAuthority: ${name} must be a positive integer`)
    }
  }
  if (!Number.isFinite(options.reuseIntervalMs) || options.reuseIntervalMs < 0) {
    throw new RangeError("TokenAuthority: reuseIntervalMs must be a non-negative number")
  }
}

/**
 * Makes a token authority.
 *
 * Memory stays bounded: a refresh token is forgotten one more lifetime (at most a day) after it
 * expires, so that meanwhile it is reported as `expired`; a sweep runs at most once a second of the
 * authority's clock and walks the table in issue order, stopping at the first token to keep, so it
 * costs only what it removes. Each session also remembers at most `reuseDetectionDepth` of its spent
 * tokens. A forgotten token is rejected as `unknown`: reusing it is still refused, it just no longer
 * revokes its session.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (overrides: Partial<Options> = {}): TokenAuthority => {
  const options: Options = { ...defaults, ...overrides }
  validate(options)
  const { accessTokenTtlSeconds, reuseIntervalMs, reuseDetectionDepth, now } = options
  const refreshTtlMs = options.refreshTokenTtlSeconds * 1000
  const retentionMs = Math.min(refreshTtlMs, expiredRetentionCapMs)
  const signingKey = Jwt.key(options.secret ?? randomBytes(32))
  const tokens = new Map<string, RefreshRecord>()
  let subjects = 0
  let nextSweepAt = Number.NEGATIVE_INFINITY

  const sweep = (at: number): void => {
    if (at < nextSweepAt) return
    nextSweepAt = at + sweepIntervalMs
    for (const [token, record] of tokens) {
      if (record.expiresAt + retentionMs > at) break
      tokens.delete(token)
    }
  }

  const issue = (family: Family, at: number): Grant => {
    const refreshToken = randomBytes(32).toString("base64url")
    tokens.set(refreshToken, { family, expiresAt: at + refreshTtlMs, spentAt: undefined, successor: undefined })
    const iat = Math.floor(at / 1000)
    const accessToken = Jwt.sign(
      { iss: Jwt.issuer, sub: family.subject, iat, exp: iat + accessTokenTtlSeconds, jti: randomUUID() },
      signingKey
    )
    return { accessToken, refreshToken, expiresIn: accessTokenTtlSeconds, tokenType: "Bearer" }
  }

  const rememberSpent = (family: Family, token: string): void => {
    family.spent.push(token)
    if (family.spent.length > reuseDetectionDepth) tokens.delete(family.spent.shift()!)
  }

  return {
    options,
    mintSession: (subject) => {
      const at = now()
      sweep(at)
      subjects += 1
      return issue({ subject: subject ?? `user-${subjects}`, revoked: false, spent: [] }, at)
    },
    refresh: (refreshToken) => {
      const at = now()
      sweep(at)
      const record = tokens.get(refreshToken)
      if (record === undefined) return { _tag: "Rejected", reason: "unknown" }
      const { family } = record
      if (family.revoked) return { _tag: "Rejected", reason: "revoked" }
      if (at >= record.expiresAt) return { _tag: "Rejected", reason: "expired" }
      if (record.spentAt !== undefined) {
        if (record.successor !== undefined && at - record.spentAt < reuseIntervalMs) {
          return { _tag: "Granted", grant: record.successor, rotated: false }
        }
        family.revoked = true
        return { _tag: "Rejected", reason: "reused" }
      }
      const grant = issue(family, at)
      record.spentAt = at
      if (reuseIntervalMs > 0) record.successor = grant
      rememberSpent(family, refreshToken)
      return { _tag: "Granted", grant, rotated: true }
    },
    inspect: (refreshToken) => {
      const record = tokens.get(refreshToken)
      if (record === undefined) return { state: "unknown", spent: false }
      const spent = record.spentAt !== undefined
      const state = record.family.revoked ? "revoked" : now() >= record.expiresAt ? "expired" : spent ? "spent" : "live"
      return { state, spent }
    },
    verifyAccessToken: (accessToken) => {
      const result = Jwt.verify(accessToken, signingKey, now())
      return result._tag === "Valid" ? { _tag: "Valid", subject: result.claims.sub } : result
    },
    size: () => tokens.size
  }
}
