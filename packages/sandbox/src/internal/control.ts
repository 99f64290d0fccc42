/**
 * The sandbox's own routes under `/sandbox/`, for tests, soaks and demos: minting sessions, asking
 * who an access token belongs to, inspecting a refresh token, the stats, and setting faults and the
 * rate limit at run time.
 *
 * @internal
 */
import * as Either from "effect/Either"
import * as Faults from "../Faults.js"
import type { Stats } from "../SandboxServer.js"
import type { Parts } from "./parts.js"
import { errorReply, invalidRequest, jsonHeaders, jsonReply, noContent, reply, tokenHeaders } from "./replies.js"
import { isRecord, notObject, readJson, readLimited, refreshTokenOf, tooLarge } from "./requests.js"
import type { Handler } from "./router.js"

/** The most sessions one `POST /sandbox/sessions?count=N` mints. */
export const maxSessionsPerRequest = 100_000

/** The handlers, one per method of each `/sandbox/*` path. */
export interface Control {
  /** `GET /sandbox/whoami` */
  readonly whoami: Handler
  /** `POST /sandbox/sessions[?count=N]` */
  readonly mintSessions: Handler
  /** `POST /sandbox/inspect` */
  readonly inspect: Handler
  /** `GET /sandbox/stats` */
  readonly stats: Handler
  /** `POST /sandbox/faults` */
  readonly configureFaults: Handler
  /** `DELETE /sandbox/faults` */
  readonly resetFaults: Handler
  /** `POST /sandbox/rate-limit` */
  readonly configureRateLimit: Handler
}

const invalidToken = (message: string) =>
  errorReply(401, "invalid_token", message, { ...jsonHeaders, "www-authenticate": 'Bearer error="invalid_token"' })

const whoamiRejections = {
  missing: errorReply(401, "invalid_token", "Send Authorization: Bearer <access token>", {
    ...jsonHeaders,
    "www-authenticate": 'Bearer realm="ddn-sandbox"'
  }),
  malformed: invalidToken("The access token is malformed"),
  bad_signature: invalidToken("The access token's signature does not match"),
  expired: invalidToken("The access token has expired")
}

const badCount = invalidRequest(`count must be an integer from 1 to ${maxSessionsPerRequest}`)
const badRps = invalidRequest("requestsPerSecond must be a non-negative integer")

/** The `count` of a `/sandbox/sessions` query string: `single` when absent, `undefined` when invalid. */
const sessionCount = (url: string): number | "single" | undefined => {
  const query = url.indexOf("?")
  const raw = query === -1 ? null : new URLSearchParams(url.slice(query + 1)).get("count")
  if (raw === null) return "single"
  const count = /^\d{1,6}$/.test(raw) ? Number(raw) : Number.NaN
  return count >= 1 && count <= maxSessionsPerRequest ? count : undefined
}

/** Starts an outage, sets the rates or queues a scripted fault, as the body says; or why it cannot. */
const configure = (faults: Faults.Faults, request: Record<string, unknown>): Either.Either<void, string> => {
  if ("outage" in request) return Either.map(Faults.decodeOutage(request.outage), faults.startOutage)
  if ("rates" in request) return Either.map(Faults.decodeRates(request.rates), faults.setRates)
  const { times = 1, ...rest } = request
  if (typeof times !== "number" || !Number.isSafeInteger(times) || times < 1) {
    return Either.left("times must be a positive integer")
  }
  return Either.map(Faults.decodeFault(rest), (fault) => faults.inject(fault, times))
}

/** The `/sandbox/*` handlers of one sandbox; `stats` takes the snapshot `GET /sandbox/stats` answers. */
export const make = ({ authority, faults, rateLimit, counters, rotations }: Parts, stats: () => Stats): Control => ({
  whoami: (req, res) => {
    const match = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? "")
    if (match === null) return reply(res, whoamiRejections.missing)
    const result = authority.verifyAccessToken(match[1]!)
    reply(res, result._tag === "Valid" ? jsonReply(200, { sub: result.subject }) : whoamiRejections[result.reason])
  },
  mintSessions: (req, res) => {
    const count = sessionCount(req.url ?? "/")
    if (count === undefined) return reply(res, badCount)
    if (count === "single") {
      counters.sessionsMinted += 1
      return reply(res, jsonReply(201, authority.mintSession(), tokenHeaders))
    }
    counters.sessionsMinted += count
    const grants = Array.from({ length: count }, () => authority.mintSession())
    reply(res, jsonReply(201, grants, tokenHeaders))
  },
  inspect: async (req, res) => {
    const body = await readLimited(req)
    if (body === "aborted") return
    if (body === "too-large") return reply(res, tooLarge)
    const token = refreshTokenOf(req, body)
    if (Either.isLeft(token)) return reply(res, token.left)
    const { state } = authority.inspect(token.right)
    reply(res, jsonReply(200, { state, rotation: rotations.delivery(token.right) }))
  },
  stats: (_, res) => reply(res, jsonReply(200, stats())),
  configureFaults: async (req, res) => {
    const json = await readJson(req)
    if (json === undefined) return
    if (Either.isLeft(json)) return reply(res, json.left)
    if (!isRecord(json.right)) return reply(res, notObject)
    const configured = configure(faults, json.right)
    if (Either.isLeft(configured)) return reply(res, invalidRequest(configured.left))
    noContent(res)
  },
  resetFaults: (_, res) => {
    faults.reset()
    noContent(res)
  },
  configureRateLimit: async (req, res) => {
    const json = await readJson(req)
    if (json === undefined) return
    if (Either.isLeft(json)) return reply(res, json.left)
    const rps = isRecord(json.right) ? json.right.requestsPerSecond : undefined
    if (typeof rps !== "number" || !Number.isSafeInteger(rps) || rps < 0) return reply(res, badRps)
    rateLimit.set(rps)
    noContent(res)
  }
})
