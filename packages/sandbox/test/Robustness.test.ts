import { Agent, validateHeaderName, validateHeaderValue } from "node:http"
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as SandboxServer from "../src/SandboxServer.js"
import { refresh, send } from "./utils/http.js"

const framingHeaders = new Set([
  "connection",
  "content-length",
  "content-type",
  "expect",
  "host",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade"
])

const accepted =
  <A>(validate: (a: A) => void) =>
  (a: A) => {
    try {
      validate(a)
      return true
    } catch {
      return false
    }
  }

const headerName = fc
  .stringMatching(/^[-!#$%&'*+.^_`|~0-9A-Za-z]{1,24}$/)
  .filter((name) => !framingHeaders.has(name.toLowerCase()))
  .filter(accepted((name) => validateHeaderName(name)))

const headerValue = fc
  .string({
    unit: fc.oneof(
      fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)),
      fc.constant("\t")
    ),
    maxLength: 64
  })
  .filter(accepted((value) => validateHeaderValue("x-check", value)))

const contentType = fc.oneof(
  fc.constantFrom(
    "application/json",
    "application/json; charset=utf-8",
    "APPLICATION/JSON",
    " application/json ;",
    "application/jsonx",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    ""
  ),
  headerValue,
  fc.constant(undefined)
)

const body = fc.oneof(
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
  fc
    .record(
      { refreshToken: fc.oneof(fc.string({ unit: "binary" }), fc.jsonValue({ maxDepth: 2 })), other: fc.jsonValue() },
      { requiredKeys: [] }
    )
    .map((value) => JSON.stringify(value)),
  fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes)),
  fc.integer({ min: 64 * 1024 + 1, max: 80 * 1024 }).map((size) => `{"refreshToken":"${"x".repeat(size)}"}`)
)

const requestArb = fc.record({
  headers: fc.array(fc.tuple(headerName, headerValue), { maxLength: 8 }),
  contentType,
  body
})

describe("Robustness of POST /gateway/auth/refresh", () => {
  let sandbox: SandboxServer.RunningSandbox
  const agent = new Agent({ keepAlive: true, maxSockets: 16 })
  beforeAll(async () => {
    sandbox = await SandboxServer.start()
  })
  afterAll(async () => {
    agent.destroy()
    await sandbox.stop()
  })

  it("answers 1,000 random requests with 400, 401, 413 or 415 only, then still refreshes", async () => {
    const statuses = new Map<number, number>()
    let sent = 0
    await fc.assert(
      fc.asyncProperty(fc.array(requestArb, { minLength: 20, maxLength: 20 }), async (requests) => {
        const replies = await Promise.all(
          requests.map(({ headers, contentType, body }) =>
            send(`${sandbox.url}/gateway/auth/refresh`, {
              method: "POST",
              agent,
              headers: {
                ...Object.fromEntries(headers),
                ...(contentType === undefined ? {} : { "content-type": contentType })
              },
              body
            })
          )
        )
        sent += replies.length
        for (const { status } of replies) {
          statuses.set(status, (statuses.get(status) ?? 0) + 1)
          expect([400, 401, 413, 415]).toContain(status)
        }
      }),
      { numRuns: 50 }
    )
    expect(sent).toBe(1000)
    expect(statuses.get(400)).toBeGreaterThan(0)
    expect(statuses.get(401)).toBeGreaterThan(0)
    expect(statuses.get(413)).toBeGreaterThan(0)

    const stats = sandbox.stats()
    expect(stats.refreshRequests).toBe(1000)
    expect(stats.invalidRequests + stats.tooLarge + stats.rejected.unknown).toBe(1000)
    const grant = sandbox.authority.mintSession()
    const reply = await refresh(sandbox.url, grant.refreshToken, { agent })
    expect(reply.status).toBe(200)
  })
})
