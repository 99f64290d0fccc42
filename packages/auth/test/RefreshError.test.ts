import { inspect } from "node:util"
import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Inspectable from "effect/Inspectable"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"
import * as TestContext from "effect/TestContext"
import * as fc from "fast-check"
import * as Client from "../src/DdnAuthClient.js"
import { DdnAuthClient } from "../src/DdnAuthClient.js"
import { RefreshError } from "../src/RefreshError.js"
import { mockUpstream, type Step } from "./utils/MockUpstream.js"

/** Every way an error can be turned into text by a program, a logger or a serializer. */
const renderings = (error: unknown, exit: Exit.Exit<unknown, unknown>): ReadonlyArray<string> => [
  String(error),
  (error as Error).message,
  (error as Error).stack ?? "",
  JSON.stringify(error),
  JSON.stringify(Inspectable.toJSON(error)),
  inspect(error, { depth: 10 }),
  String(exit),
  Exit.isFailure(exit) ? Cause.pretty(exit.cause) : "",
  JSON.stringify(Schema.encodeUnknownSync(RefreshError)(error))
]

/** Upstream behaviours that lead to each error, some of them echoing the token back in the body. */
const stepsEchoing = (token: string): ReadonlyArray<ReadonlyArray<Step>> => [
  [{ status: 400, body: { error: "invalid", refreshToken: token } }],
  [{ status: 401, body: { message: `token ${token} expired` } }],
  [{ status: 429, headers: { "retry-after": "600" }, body: { token } }],
  [{ status: 503, body: token }],
  [{ status: 403, body: token }],
  ["reset"],
  [{ status: 200, body: { accessToken: token, refreshToken: token, expiresIn: token, tokenType: token } }],
  [{ status: 200, body: { accessToken: [token], refreshToken: { token }, expiresIn: -1, tokenType: "" } }],
  [{ raw: `{"refreshToken":"${token}"` }],
  [{ status: 503 }, { status: 401, body: token }]
]

const tokenArbitrary = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9._~+/=-]{12,64}$/),
  fc.string({ unit: "grapheme", minLength: 12, maxLength: 40 }).filter((s) => s.trim().length >= 12),
  fc.string({ minLength: 8, maxLength: 20 }).map((s) => `${s}\u0000${s}`)
)

describe("RefreshError", () => {
  it("no rendering of any error, nor any log line, ever contains the token", async () => {
    await fc.assert(
      fc.asyncProperty(tokenArbitrary, fc.nat({ max: 9 }), async (raw, which) => {
        const logs: Array<string> = []
        const capture = Logger.replace(
          Logger.defaultLogger,
          Logger.make((options) => {
            logs.push(Logger.logfmtLogger.log(options), Logger.jsonLogger.log(options))
          })
        )
        const upstream = mockUpstream(...stepsEchoing(raw)[which]!)
        const exit = await Effect.runPromise(
          Effect.gen(function* () {
            const client = yield* DdnAuthClient
            const fiber = yield* Effect.fork(client.refresh(Redacted.make(raw)))
            yield* TestClock.adjust("1 minute")
            return yield* Fiber.await(fiber)
          }).pipe(
            Effect.provide(Client.layer({ apiUrl: "http://ddn.test" }).pipe(Layer.provide(upstream.layer))),
            Effect.provide(capture),
            Effect.provide(TestContext.TestContext)
          )
        )
        expect(Exit.isFailure(exit)).toBe(true)
        const error = Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined
        expect(error).toBeDefined()
        for (const text of [...renderings(error, exit), ...logs]) expect(text).not.toContain(raw)
      }),
      { numRuns: 300 }
    )
  })
})
