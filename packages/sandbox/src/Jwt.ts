/**
 * HS256 signing and verification of the sandbox's access tokens.
 *
 * @since 0.1.0
 */
import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from "node:crypto"

/**
 * The `iss` claim of every token the sandbox signs.
 *
 * @since 0.1.0
 * @category constants
 */
export const issuer = "ddn-sandbox"

/**
 * The claims of a sandbox access token. Times are in seconds since the epoch.
 *
 * @since 0.1.0
 * @category models
 */
export interface Claims {
  readonly iss: string
  readonly sub: string
  readonly iat: number
  readonly exp: number
  readonly jti: string
}

/**
 * Why a token failed verification. `malformed` also covers a wrong algorithm or issuer.
 *
 * @since 0.1.0
 * @category models
 */
export type InvalidReason = "malformed" | "bad_signature" | "expired"

/**
 * The outcome of {@link verify}.
 *
 * @since 0.1.0
 * @category models
 */
export type Verification =
  | { readonly _tag: "Valid"; readonly claims: Claims }
  | { readonly _tag: "Invalid"; readonly reason: InvalidReason }

/**
 * An HMAC key, made once with {@link key} and reused for every sign and verify.
 *
 * @since 0.1.0
 * @category models
 */
export type Key = KeyObject

/**
 * Turns a shared secret into an HS256 key.
 *
 * @since 0.1.0
 * @category constructors
 */
export const key = (secret: string | Uint8Array): Key =>
  createSecretKey(typeof secret === "string" ? Buffer.from(secret) : secret)

const header = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT" })).toString("base64url")

const signature = (signingInput: string, secret: Key): Buffer =>
  createHmac("sha256", secret).update(signingInput).digest()

/**
 * Signs the claims as a compact HS256 JWT.
 *
 * @since 0.1.0
 * @category signing
 */
export const sign = (claims: Claims, secret: Key): string => {
  const signingInput = `${header}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`
  return `${signingInput}.${signature(signingInput, secret).toString("base64url")}`
}

const malformed: Verification = { _tag: "Invalid", reason: "malformed" }

const parseSegment = (segment: string): unknown => {
  try {
    return JSON.parse(Buffer.from(segment, "base64url").toString("utf8"))
  } catch {
    return undefined
  }
}

const isClaims = (u: unknown): u is Claims => {
  if (typeof u !== "object" || u === null) return false
  const c = u as Record<string, unknown>
  return (
    c.iss === issuer &&
    typeof c.sub === "string" &&
    Number.isInteger(c.iat) &&
    Number.isInteger(c.exp) &&
    typeof c.jti === "string"
  )
}

/**
 * Checks an HS256 JWT: the header must name HS256, the signature must match (compared in constant
 * time), the claims must be the sandbox's, and `exp` must lie after `nowMs`.
 *
 * @since 0.1.0
 * @category signing
 */
export const verify = (token: string, secret: Key, nowMs: number): Verification => {
  const parts = token.split(".")
  if (parts.length !== 3) return malformed
  const [headerSegment, payloadSegment, signatureSegment] = parts as [string, string, string]
  const parsedHeader = parseSegment(headerSegment)
  if (
    typeof parsedHeader !== "object" ||
    parsedHeader === null ||
    (parsedHeader as { alg?: unknown }).alg !== "HS256"
  ) {
    return malformed
  }
  const expected = signature(`${headerSegment}.${payloadSegment}`, secret)
  const actual = Buffer.from(signatureSegment, "base64url")
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    return { _tag: "Invalid", reason: "bad_signature" }
  }
  const claims = parseSegment(payloadSegment)
  if (!isClaims(claims)) return malformed
  if (Math.floor(nowMs / 1000) >= claims.exp) return { _tag: "Invalid", reason: "expired" }
  return { _tag: "Valid", claims }
}
