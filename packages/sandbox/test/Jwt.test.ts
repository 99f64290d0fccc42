import { createHmac } from "node:crypto"
import { describe, expect, it } from "vitest"
import * as Jwt from "../src/Jwt.js"

const secret = "sandbox-test-secret"
const key = Jwt.key(secret)
const nowMs = Date.UTC(2025, 0, 1)
const iat = nowMs / 1000
const claims: Jwt.Claims = { iss: Jwt.issuer, sub: "user-1", iat, exp: iat + 60, jti: "jti-1" }

const decode = (segment: string): unknown => JSON.parse(Buffer.from(segment, "base64url").toString("utf8"))

describe("Jwt", () => {
  it("signs a compact HS256 JWT with the claims as payload", () => {
    const [header, payload, signature] = Jwt.sign(claims, key).split(".") as [string, string, string]
    expect(decode(header)).toEqual({ alg: "HS256", typ: "JWT" })
    expect(decode(payload)).toEqual(claims)
    const expected = createHmac("sha256", secret).update(`${header}.${payload}`).digest("base64url")
    expect(signature).toBe(expected)
  })

  it("verifies its own tokens until exp", () => {
    const token = Jwt.sign(claims, key)
    expect(Jwt.verify(token, key, nowMs)).toEqual({ _tag: "Valid", claims })
    expect(Jwt.verify(token, key, nowMs + 59_999)._tag).toBe("Valid")
    expect(Jwt.verify(token, key, nowMs + 60_000)).toEqual({ _tag: "Invalid", reason: "expired" })
  })

  it("checks signatures made elsewhere (the RFC 7519 / jwt.io example)", () => {
    const example =
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
    // The signature matches, but the claims are not the sandbox's.
    expect(Jwt.verify(example, Jwt.key("your-256-bit-secret"), nowMs)).toEqual({ _tag: "Invalid", reason: "malformed" })
    expect(Jwt.verify(example, key, nowMs)).toEqual({ _tag: "Invalid", reason: "bad_signature" })
  })

  it("rejects a token signed with another key or with a tampered payload", () => {
    const token = Jwt.sign(claims, key)
    expect(Jwt.verify(token, Jwt.key("another-secret"), nowMs)).toEqual({ _tag: "Invalid", reason: "bad_signature" })
    const [header, , signature] = token.split(".")
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: "admin" })).toString("base64url")
    expect(Jwt.verify(`${header}.${forged}.${signature}`, key, nowMs)).toEqual({
      _tag: "Invalid",
      reason: "bad_signature"
    })
  })

  it("rejects malformed tokens and other algorithms", () => {
    const token = Jwt.sign(claims, key)
    const [, payload, signature] = token.split(".")
    const none = Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url")
    for (const bad of [
      "",
      "abc",
      "a.b",
      "a.b.c.d",
      `${none}.${payload}.`,
      `${none}.${payload}.${signature}`,
      "%%%.%%%.%%%"
    ]) {
      expect(Jwt.verify(bad, key, nowMs)).toEqual({ _tag: "Invalid", reason: "malformed" })
    }
  })

  it("rejects correctly signed tokens whose claims are not the sandbox's", () => {
    const foreign = Jwt.sign({ ...claims, iss: "someone-else" }, key)
    expect(Jwt.verify(foreign, key, nowMs)).toEqual({ _tag: "Invalid", reason: "malformed" })
  })
})
