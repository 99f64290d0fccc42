import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from "node:http"
import type { Socket } from "node:net"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Faults from "./Faults.js"
import { delay, isJson, readBody, send } from "./internal/http.js"
import * as Listening from "./Listening.js"
import * as RateLimit from "./RateLimit.js"
import { defaults, type SandboxOptions } from "./SandboxOptions.js"
import * as TokenAuthority from "./TokenAuthority.js"

/** The largest request body the sandbox reads; more is answered with 413. */
export const maxBodyBytes = 64 * 1024

/** The most sessions one `POST /sandbox/sessions?count=N` mints. */
export const maxSessionsPerRequest = 100_000

/** How many lost rotations the sandbox remembers for {@link RotationDelivery} (oldest forgotten first). */
export const lostRotationsRemembered = 100_000

/**
 * What became of a refresh token's rotation, from `POST /sandbox/inspect`: `none` (not rotated),
 * `delivered` (rotated and its 200 written to the client), or `lost` (rotated, but an after-phase
 * fault struck or the client had gone, so no client ever saw the new pair).
 */
export type RotationDelivery = "none" | "delivered" | "lost"

/** Counters since start; a snapshot from {@link RunningSandbox.stats}. */
export interface Stats {
  /** Requests to `POST /gateway/auth/refresh`, whatever became of them. */
  readonly refreshRequests: number
  /** Refresh tokens rotated, including those whose response an after-phase fault then lost. */
  readonly granted: number
  /** Rotations whose 200 never reached the client (after-phase fault, or the client had gone). */
  readonly rotationsLost: number
  /** Refresh tokens turned down with 401, by reason. */
  readonly rejected: Readonly<Record<TokenAuthority.RejectionReason, number>>
  /** Refresh requests answered with 400. */
  readonly invalidRequests: number
  /** Refresh requests answered with 413. */
  readonly tooLarge: number
  /** Refresh requests answered 429 by the rate limit (`rateLimitRps`); injected 429s count as faults. */
  readonly rateLimited: number
  /** TCP connections to the sandbox: `open` now, the `peak` of open ones at any moment, `total` accepted. */
  readonly connections: { readonly open: number; readonly peak: number; readonly total: number }
  /** Sessions minted through `POST /sandbox/sessions`. */
  readonly sessionsMinted: number
  /** Faults struck so far, by kind. */
  readonly faultsInjected: Faults.Injected
  /** Refresh tokens the authority remembers right now. */
  readonly refreshTokensRemembered: number
}

/** A sandbox serving on `url` until `stop` is called. */
export interface RunningSandbox {
  /** Base URL, e.g. `http://127.0.0.1:43123`, without a trailing slash. */
  readonly url: string
  readonly port: number
  /** The token state, e.g. to `mintSession()` without HTTP. */
  readonly authority: TokenAuthority.TokenAuthority
  /** Whether a refresh token's rotation reached the client; see {@link RotationDelivery}. */
  readonly delivery: (refreshToken: string) => RotationDelivery
  /** Fault injection for the refresh endpoint (outages included). */
  readonly faults: Faults.Faults
  /** DDN's global rate limit on the refresh endpoint, changeable at run time. */
  readonly rateLimit: RateLimit.RateLimit
  readonly stats: () => Stats
  /** Closes the server and destroys every open socket, hung ones included. Idempotent. */
  readonly stop: () => Promise<void>
}

/** The sandbox could not listen (e.g. the port is taken). */
export class SandboxStartError extends Data.TaggedError("SandboxStartError")<{ readonly cause: unknown }> {
  override get message(): string {
    return `The DDN sandbox could not start: ${this.cause instanceof Error ? this.cause.message : String(this.cause)}`
  }
}

const jsonHeaders: OutgoingHttpHeaders = { "content-type": "application/json", "cache-control": "no-store" }
const tokenHeaders: OutgoingHttpHeaders = { ...jsonHeaders, pragma: "no-cache" }

interface Reply {
  readonly status: number
  readonly headers: OutgoingHttpHeaders
  readonly body: string
}

const errorReply = (status: number, error: string, message: string, headers = jsonHeaders): Reply => ({
  status,
  headers,
  body: JSON.stringify({ error, message })
})

const invalidRequest = {
  contentType: errorReply(400, "invalid_request", "Content-Type must be application/json"),
  notJson: errorReply(400, "invalid_request", "The request body is not valid JSON"),
  notObject: errorReply(400, "invalid_request", "The request body must be a JSON object"),
  noToken: errorReply(400, "invalid_request", "refreshToken must be a non-empty string")
}

const invalidGrant: Record<TokenAuthority.RejectionReason, Reply> = {
  unknown: errorReply(401, "invalid_grant", "The refresh token is not recognised"),
  expired: errorReply(401, "invalid_grant", "The refresh token has expired"),
  revoked: errorReply(401, "invalid_grant", "The refresh token belongs to a revoked session"),
  reused: errorReply(401, "invalid_grant", "The refresh token was already used; its session is now revoked")
}

const invalidToken = (message: string): Reply =>
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

const badCount = errorReply(400, "invalid_request", `count must be an integer from 1 to ${maxSessionsPerRequest}`)

/** The `count` of a `/sandbox/sessions` query string: `single` when absent, `undefined` when invalid. */
const sessionCount = (url: string): number | "single" | undefined => {
  const query = url.indexOf("?")
  const raw = query === -1 ? null : new URLSearchParams(url.slice(query + 1)).get("count")
  if (raw === null) return "single"
  const count = /^\d{1,6}$/.test(raw) ? Number(raw) : Number.NaN
  return count >= 1 && count <= maxSessionsPerRequest ? count : undefined
}

const tooLarge = errorReply(413, "payload_too_large", `The request body exceeds ${maxBodyBytes} bytes`)
const rateLimited = (retryAfter: number): Reply =>
  errorReply(429, "rate_limited", "Too many requests; retry later", {
    ...jsonHeaders,
    "retry-after": String(retryAfter)
  })
const notFound = errorReply(404, "not_found", "No such route")
const internalError = errorReply(500, "internal_error", "The sandbox failed to handle the request")
const healthy = { status: 200, headers: jsonHeaders, body: '{"status":"ok"}' }

const methodNotAllowed = (allow: string): Reply =>
  errorReply(405, "method_not_allowed", `Allowed: ${allow}`, { ...jsonHeaders, allow })

const reply = (res: ServerResponse, { status, headers, body }: Reply): void => send(res, status, headers, body)

const parseJson = (body: Buffer): Either.Either<unknown, Reply> => {
  try {
    return Either.right(JSON.parse(body.toString("utf8")))
  } catch {
    return Either.left(invalidRequest.notJson)
  }
}

const parseJsonBody = (req: IncomingMessage, body: Buffer): Either.Either<unknown, Reply> =>
  isJson(req.headers["content-type"]) ? parseJson(body) : Either.left(invalidRequest.contentType)

const readJson = async (req: IncomingMessage): Promise<Either.Either<unknown, Reply> | undefined> => {
  const body = await readBody(req, maxBodyBytes)
  if (body === "aborted") return undefined
  return body === "too-large" ? Either.left(tooLarge) : parseJsonBody(req, body)
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const refreshTokenOf = (req: IncomingMessage, body: Buffer): Either.Either<string, Reply> => {
  const json = parseJsonBody(req, body)
  if (Either.isLeft(json)) return Either.left(json.left)
  if (!isRecord(json.right)) return Either.left(invalidRequest.notObject)
  const token = json.right.refreshToken
  return typeof token === "string" && token.length > 0 ? Either.right(token) : Either.left(invalidRequest.noToken)
}

/**
 * Starts a sandbox in this process. Defaults: {@link defaults} (an ephemeral port on 127.0.0.1, token
 * lifetimes of 3600 s and 30 days, no reuse interval, no faults).
 */
export const start = (options: Partial<SandboxOptions> = {}): Promise<RunningSandbox> => {
  const { port, host, faults: rates, rateLimitRps, ...authorityOptions }: SandboxOptions = { ...defaults, ...options }
  const authority = TokenAuthority.make(authorityOptions)
  const faults = Faults.make(rates, authorityOptions.now)
  const rateLimit = RateLimit.make(rateLimitRps, authorityOptions.now)
  const connections = { peak: 0, total: 0 }
  const counters = {
    refreshRequests: 0,
    granted: 0,
    rotationsLost: 0,
    invalidRequests: 0,
    tooLarge: 0,
    sessionsMinted: 0
  }
  const rejected: Record<TokenAuthority.RejectionReason, number> = { unknown: 0, expired: 0, revoked: 0, reused: 0 }
  const lostRotations = new Set<string>()

  /** A refresh's reply, and the token it rotated for the first time, if it did. */
  interface Answer {
    readonly reply: Reply
    readonly rotated: string | undefined
  }

  const answerRefresh = (req: IncomingMessage, body: Buffer): Answer => {
    const token = refreshTokenOf(req, body)
    if (Either.isLeft(token)) {
      counters.invalidRequests += 1
      return { reply: token.left, rotated: undefined }
    }
    const result = authority.refresh(token.right)
    if (result._tag === "Rejected") {
      rejected[result.reason] += 1
      return { reply: invalidGrant[result.reason], rotated: undefined }
    }
    counters.granted += 1
    // A replay within the reuse interval hands out the same pair: a rotation lost before is found again.
    if (!result.rotated) lostRotations.delete(token.right)
    return {
      reply: { status: 200, headers: tokenHeaders, body: JSON.stringify(result.grant) },
      rotated: result.rotated ? token.right : undefined
    }
  }

  const loseRotation = (token: string): void => {
    counters.rotationsLost += 1
    lostRotations.add(token)
    if (lostRotations.size > lostRotationsRemembered) lostRotations.delete(lostRotations.values().next().value!)
  }

  /** Writes the answer; a rotation whose client has gone is recorded as lost. */
  const deliver = (res: ServerResponse, answer: Answer): void => {
    if (answer.rotated !== undefined && (res.destroyed || res.headersSent)) loseRotation(answer.rotated)
    reply(res, answer.reply)
  }

  const delivery = (refreshToken: string): RotationDelivery =>
    !authority.inspect(refreshToken).spent ? "none" : lostRotations.has(refreshToken) ? "lost" : "delivered"

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
      case "status": {
        const headers =
          fault.retryAfter === undefined ? jsonHeaders : { ...jsonHeaders, "retry-after": String(fault.retryAfter) }
        const error = fault.status === 429 ? "rate_limited" : "injected_fault"
        reply(res, errorReply(fault.status, error, `Injected fault: HTTP ${fault.status}`, headers))
        return false
      }
    }
  }

  const refreshWithFaults = async (
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
    { latencyMs, fault }: Faults.Draw
  ): Promise<void> => {
    if (latencyMs > 0 && !(await delay(res, latencyMs))) return
    const after = fault?.phase === "after"
    if (fault !== undefined && !after && !(await strike(fault, req, res))) return
    const answer = answerRefresh(req, body)
    if (fault !== undefined && after && !(await strike(fault, req, res))) {
      if (answer.rotated !== undefined) loseRotation(answer.rotated)
      return
    }
    deliver(res, answer)
  }

  const refresh = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    counters.refreshRequests += 1
    const body = await readBody(req, maxBodyBytes)
    if (body === "aborted") return
    if (body === "too-large") {
      counters.tooLarge += 1
      return reply(res, tooLarge)
    }
    const retryAfter = rateLimit.admit()
    if (retryAfter !== undefined) return reply(res, rateLimited(retryAfter))
    const draw = faults.draw()
    if (draw === Faults.none) return deliver(res, answerRefresh(req, body))
    return refreshWithFaults(req, res, body, draw)
  }

  const whoami = (req: IncomingMessage, res: ServerResponse): void => {
    const match = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? "")
    if (match === null) {
      reply(res, whoamiRejections.missing)
      return
    }
    const result = authority.verifyAccessToken(match[1]!)
    reply(
      res,
      result._tag === "Valid"
        ? { status: 200, headers: jsonHeaders, body: JSON.stringify({ sub: result.subject }) }
        : whoamiRejections[result.reason]
    )
  }

  const configureFaults = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const json = await readJson(req)
    if (json === undefined) return
    if (Either.isLeft(json)) return reply(res, json.left)
    const request = json.right
    if (!isRecord(request)) return reply(res, invalidRequest.notObject)
    if ("outage" in request) {
      const outage = Faults.decodeOutage(request.outage)
      if (Either.isLeft(outage)) return reply(res, errorReply(400, "invalid_request", outage.left))
      faults.startOutage(outage.right)
    } else if ("rates" in request) {
      const rates = Faults.decodeRates(request.rates)
      if (Either.isLeft(rates)) return reply(res, errorReply(400, "invalid_request", rates.left))
      faults.setRates(rates.right)
    } else {
      const { times = 1, ...rest } = request
      if (typeof times !== "number" || !Number.isSafeInteger(times) || times < 1) {
        return reply(res, errorReply(400, "invalid_request", "times must be a positive integer"))
      }
      const fault = Faults.decodeFault(rest)
      if (Either.isLeft(fault)) return reply(res, errorReply(400, "invalid_request", fault.left))
      faults.inject(fault.right, times)
    }
    res.writeHead(204).end()
  }

  const inspect = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req, maxBodyBytes)
    if (body === "aborted") return
    if (body === "too-large") return reply(res, tooLarge)
    const token = refreshTokenOf(req, body)
    if (Either.isLeft(token)) return reply(res, token.left)
    const { state } = authority.inspect(token.right)
    reply(res, { status: 200, headers: jsonHeaders, body: JSON.stringify({ state, rotation: delivery(token.right) }) })
  }

  const mintSessions = (url: string): Reply => {
    const count = sessionCount(url)
    if (count === undefined) return badCount
    if (count === "single") {
      counters.sessionsMinted += 1
      return { status: 201, headers: tokenHeaders, body: JSON.stringify(authority.mintSession()) }
    }
    counters.sessionsMinted += count
    const grants = Array.from({ length: count }, () => authority.mintSession())
    return { status: 201, headers: tokenHeaders, body: JSON.stringify(grants) }
  }

  const configureRateLimit = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const json = await readJson(req)
    if (json === undefined) return
    if (Either.isLeft(json)) return reply(res, json.left)
    const rps = isRecord(json.right) ? json.right.requestsPerSecond : undefined
    if (typeof rps !== "number" || !Number.isSafeInteger(rps) || rps < 0) {
      return reply(res, errorReply(400, "invalid_request", "requestsPerSecond must be a non-negative integer"))
    }
    rateLimit.set(rps)
    res.writeHead(204).end()
  }

  const stats = (): Stats => ({
    ...counters,
    rateLimited: rateLimit.refused(),
    connections: { open: sockets.size, ...connections },
    rejected: { ...rejected },
    faultsInjected: faults.injected(),
    refreshTokensRemembered: authority.size()
  })

  const route = (req: IncomingMessage, res: ServerResponse): void | Promise<void> => {
    const url = req.url ?? "/"
    const query = url.indexOf("?")
    const path = query === -1 ? url : url.slice(0, query)
    const method = req.method
    switch (path) {
      case "/gateway/auth/refresh":
        return method === "POST" ? refresh(req, res) : reply(res, methodNotAllowed("POST"))
      case "/sandbox/whoami":
        return method === "GET" ? whoami(req, res) : reply(res, methodNotAllowed("GET"))
      case "/sandbox/sessions":
        return reply(res, method === "POST" ? mintSessions(url) : methodNotAllowed("POST"))
      case "/sandbox/inspect":
        return method === "POST" ? inspect(req, res) : reply(res, methodNotAllowed("POST"))
      case "/sandbox/stats":
        return method === "GET"
          ? reply(res, { status: 200, headers: jsonHeaders, body: JSON.stringify(stats()) })
          : reply(res, methodNotAllowed("GET"))
      case "/sandbox/faults":
        if (method === "POST") return configureFaults(req, res)
        if (method !== "DELETE") return reply(res, methodNotAllowed("POST, DELETE"))
        faults.reset()
        res.writeHead(204).end()
        return
      case "/sandbox/rate-limit":
        return method === "POST" ? configureRateLimit(req, res) : reply(res, methodNotAllowed("POST"))
      case "/healthz":
        return method === "GET" ? reply(res, healthy) : reply(res, methodNotAllowed("GET"))
      default:
        return reply(res, notFound)
    }
  }

  const server = createServer((req, res) => {
    try {
      const pending = route(req, res)
      if (pending !== undefined) pending.catch(() => reply(res, internalError))
    } catch {
      reply(res, internalError)
    }
  })
  const sockets = new Set<Socket>()
  server.on("connection", (socket) => {
    sockets.add(socket)
    connections.total += 1
    connections.peak = Math.max(connections.peak, sockets.size)
    socket.once("close", () => sockets.delete(socket))
  })

  let stopping: Promise<void> | undefined
  const stop = (): Promise<void> => {
    stopping ??= new Promise((resolve) => {
      server.close(() => resolve())
      for (const socket of sockets) socket.destroy()
    })
    return stopping
  }

  return Listening.listen(server, host, port).then(({ origin, port }) => ({
    url: origin,
    port,
    authority,
    delivery,
    faults,
    rateLimit,
    stats,
    stop
  }))
}

/** The running sandbox as an Effect service. */
export class Sandbox extends Context.Tag("@ddn/sandbox/Sandbox")<Sandbox, RunningSandbox>() {}

/** Starts a sandbox (see {@link start}) that stops when the scope closes. */
export const make = (
  options: Partial<SandboxOptions> = {}
): Effect.Effect<RunningSandbox, SandboxStartError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({ try: () => start(options), catch: (cause) => new SandboxStartError({ cause }) }),
    (sandbox) => Effect.promise(() => sandbox.stop())
  )

/** A layer providing {@link Sandbox}; the server stops when the layer's scope closes. */
export const layer = (options: Partial<SandboxOptions> = {}): Layer.Layer<Sandbox, SandboxStartError> =>
  Layer.scoped(Sandbox, make(options))
