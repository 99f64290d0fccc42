/**
 * `POST /gateway/auth/refresh`: the rate limit, the fault drawn for the request (struck before or
 * after the token is processed), the rotation, and whether its answer reached the client.
 *
 * @internal
 */
import type { IncomingMessage, ServerResponse } from "node:http"
import * as Either from "effect/Either"
import * as Faults from "../Faults.js"
import type { RejectionReason } from "../TokenAuthority.js"
import { delay, send } from "./http.js"
import type { Parts } from "./parts.js"
import { errorReply, jsonHeaders, jsonReply, type Reply, reply, tokenHeaders } from "./replies.js"
import { readLimited, refreshTokenOf, tooLarge } from "./requests.js"
import type { Handler } from "./router.js"

const invalidGrant: Record<RejectionReason, Reply> = {
  unknown: errorReply(401, "invalid_grant", "The refresh token is not recognised"),
  expired: errorReply(401, "invalid_grant", "The refresh token has expired"),
  revoked: errorReply(401, "invalid_grant", "The refresh token belongs to a revoked session"),
  reused: errorReply(401, "invalid_grant", "The refresh token was already used; its session is now revoked")
}

const rateLimited = (retryAfter: number): Reply =>
  errorReply(429, "rate_limited", "Too many requests; retry later", {
    ...jsonHeaders,
    "retry-after": String(retryAfter)
  })

const injected = (fault: Extract<Faults.Fault, { readonly type: "status" }>): Reply => {
  const headers =
    fault.retryAfter === undefined ? jsonHeaders : { ...jsonHeaders, "retry-after": String(fault.retryAfter) }
  const error = fault.status === 429 ? "rate_limited" : "injected_fault"
  return errorReply(fault.status, error, `Injected fault: HTTP ${fault.status}`, headers)
}

/** Applies `fault` to the request; resolves `true` when the refresh should carry on (latency only). */
const strike = async (fault: Faults.Fault, req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
  switch (fault.type) {
    case "latency":
      return delay(res, fault.ms)
    case "hang":
      return false
    case "reset":
      req.socket.resetAndDestroy()
      return false
    case "malformed":
      send(res, 200, tokenHeaders, fault.body ?? Faults.malformedBodies[0]!)
      return false
    case "status":
      reply(res, injected(fault))
      return false
  }
}

/** A refresh's reply, and the token it rotated for the first time, if it did. */
interface Answer {
  readonly reply: Reply
  readonly rotated: string | undefined
}

/** The refresh handler. */
export const make = ({ authority, faults, rateLimit, counters, rotations }: Parts): Handler => {
  const answer = (req: IncomingMessage, body: Buffer): Answer => {
    const token = refreshTokenOf(req, body)
    if (Either.isLeft(token)) {
      counters.invalidRequests += 1
      return { reply: token.left, rotated: undefined }
    }
    const result = authority.refresh(token.right)
    if (result._tag === "Rejected") {
      counters.rejected[result.reason] += 1
      return { reply: invalidGrant[result.reason], rotated: undefined }
    }
    counters.granted += 1
    if (!result.rotated) rotations.found(token.right)
    return { reply: jsonReply(200, result.grant, tokenHeaders), rotated: result.rotated ? token.right : undefined }
  }

  /** Writes the answer; a rotation whose client has gone is recorded as lost. */
  const deliver = (res: ServerResponse, { reply: answered, rotated }: Answer): void => {
    if (rotated !== undefined && (res.destroyed || res.headersSent)) rotations.lose(rotated)
    reply(res, answered)
  }

  const withFaults = async (
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
    { latencyMs, fault }: Faults.Draw
  ): Promise<void> => {
    if (latencyMs > 0 && !(await delay(res, latencyMs))) return
    const after = fault?.phase === "after"
    if (fault !== undefined && !after && !(await strike(fault, req, res))) return
    const answered = answer(req, body)
    if (fault !== undefined && after && !(await strike(fault, req, res))) {
      if (answered.rotated !== undefined) rotations.lose(answered.rotated)
      return
    }
    deliver(res, answered)
  }

  return async (req, res) => {
    counters.refreshRequests += 1
    const body = await readLimited(req)
    if (body === "aborted") return
    if (body === "too-large") {
      counters.tooLarge += 1
      return reply(res, tooLarge)
    }
    const retryAfter = rateLimit.admit()
    if (retryAfter !== undefined) return reply(res, rateLimited(retryAfter))
    const draw = faults.draw()
    if (draw === Faults.none) return deliver(res, answer(req, body))
    return withFaults(req, res, body, draw)
  }
}
