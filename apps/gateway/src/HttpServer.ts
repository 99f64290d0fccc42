/**
 * The gateway's public `node:http` server: routes (`/graphql` to yoga, `/healthz`, `/readyz`; metrics
 * have their own listener, `MetricsServer`), the 64 KiB body limit enforced on the streamed bytes
 * before yoga sees a request, the header size limit and timeouts of `Hardening.httpLimits` (431 for
 * oversized headers, 408 for a request that does not arrive in time), `no-store` headers and a
 * request id on every `/graphql` response, one log line per request, and graceful shutdown (stop
 * accepting, let in-flight requests finish within a grace period, close connections).
 *
 * @since 0.1.0
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import { Readable } from "node:stream"
import * as Listening from "@ddn/sandbox/Listening"
import * as LogLevel from "effect/LogLevel"
import type * as GatewayLogger from "./GatewayLogger.js"
import * as Hardening from "./Hardening.js"
import type * as Readiness from "./Readiness.js"
import * as RequestLog from "./RequestLog.js"
import type * as Tracing from "./Tracing.js"

/**
 * A request whose body the server has already read: yoga takes `body` as is. A JSON object body is
 * handed over parsed (see {@link parsedJsonBody}); any other body as its bytes; an empty body as an
 * empty stream, since yoga would otherwise wait on the request stream that was already consumed.
 *
 * @since 0.1.0
 * @category models
 */
export type BufferedRequest = IncomingMessage & { body?: Buffer | Readable | object }

/** True when `Content-Type` is `application/json`, parameters aside, as yoga's JSON request parser reads it. */
const isJsonContentType = (contentType: string | undefined): boolean => {
  if (contentType === undefined) return false
  const first = contentType.split(",", 1)[0]!
  return first === "application/json" || first.startsWith("application/json;")
}

/**
 * The body parsed, when it is a JSON object with at least one member sent as `application/json`:
 * yoga's Node adapter then answers `request.json()` with it as is, so the body is parsed once, and
 * never walks the bytes (it counts the keys of whatever `body` holds). Anything else (not JSON, an
 * array, `{}`, another content type) stays bytes for yoga to judge, so its answers do not change.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parsedJsonBody = (contentType: string | undefined, bytes: Buffer): object | undefined => {
  if (!isJsonContentType(contentType)) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(bytes.toString("utf8"))
  } catch {
    return undefined
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined
  for (const _ in parsed) return parsed
  return undefined
}

/**
 * What the routes are served by.
 *
 * @since 0.1.0
 * @category models
 */
export interface Handlers {
  /** Serves `/graphql`; the body, if any, is already buffered on `request.body`. */
  readonly graphql: (request: BufferedRequest, response: ServerResponse, state: RequestLog.RequestState) => unknown
  /** Whether the upstream answers, and the body, for `/readyz`. */
  readonly ready: () => Promise<Readiness.Report>
  /** Static files under `prefix` (GraphiQL's code); `paths` lists those that exist. */
  readonly files?: StaticFiles | undefined
}

/**
 * Static files the server serves beside its routes.
 *
 * @since 0.1.0
 * @category models
 */
export interface StaticFiles {
  readonly prefix: string
  readonly paths: ReadonlySet<string>
  readonly serve: (request: IncomingMessage, response: ServerResponse, path: string) => Promise<void>
}

/**
 * Where to listen and what to serve.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly host: string
  readonly port: number
  readonly logger: GatewayLogger.GatewayLogger
  readonly handlers: Handlers
  /** Adds `Vary: Origin` to `/graphql` responses (when CORS is configured). */
  readonly varyOrigin: boolean
  /** Header size and timeouts; default `Hardening.httpLimits`. */
  readonly limits?: Hardening.HttpLimits | undefined
  /** Traces each `/graphql` request (tracing on); undefined traces nothing. */
  readonly tracer?: Tracing.RequestTracer | undefined
}

/**
 * A listening server.
 *
 * @since 0.1.0
 * @category models
 */
export interface HttpServer {
  /** Base URL, e.g. `http://127.0.0.1:4000`, with the actual port. */
  readonly url: string
  readonly port: number
  /** Requests being handled right now. */
  readonly inFlight: () => number
  /**
   * Stops accepting connections, answers `/healthz` and `/readyz` with 503, lets in-flight requests
   * finish for up to `graceMs` (default 10 s), then closes every connection. Idempotent.
   */
  readonly close: (graceMs?: number) => Promise<void>
}

const json = "application/json; charset=utf-8"

const send = (response: ServerResponse, status: number, contentType: string, body: string): void => {
  if (response.headersSent || response.destroyed) return
  response.statusCode = status
  response.setHeader("content-type", contentType)
  response.setHeader("content-length", Buffer.byteLength(body))
  response.end(body)
}

const bodies = {
  healthy: JSON.stringify({ status: "ok" }),
  notReady: JSON.stringify({ status: "upstream_unavailable" }),
  shuttingDown: JSON.stringify({ status: "shutting_down" }),
  notFound: JSON.stringify({ error: "not_found", message: "No such route" }),
  internal: JSON.stringify({ error: "internal", message: "Internal server error" }),
  tooLarge: JSON.stringify({
    errors: [
      {
        message: `The request body exceeds ${Hardening.maxBodyBytes} bytes`,
        extensions: { code: "PAYLOAD_TOO_LARGE" }
      }
    ]
  })
}

const methodNotAllowed = (response: ServerResponse, allow: string) => {
  response.setHeader("allow", allow)
  send(response, 405, json, JSON.stringify({ error: "method_not_allowed", message: `Allowed: ${allow}` }))
}

const knownPaths = new Set(["/graphql", "/healthz", "/readyz"])

/** A raw answer to a request Node's parser refused, before any `ServerResponse` exists. */
const rawAnswer = (status: string, body: string) =>
  `HTTP/1.1 ${status}\r\nconnection: close\r\ncache-control: no-store\r\ncontent-type: ${json}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`

const clientErrorAnswers = {
  headersTooLarge: rawAnswer(
    "431 Request Header Fields Too Large",
    JSON.stringify({ error: "headers_too_large", message: "The request headers are too large" })
  ),
  timeout: rawAnswer(
    "408 Request Timeout",
    JSON.stringify({ error: "request_timeout", message: "The request did not arrive in time" })
  ),
  badRequest: rawAnswer("400 Bad Request", JSON.stringify({ error: "bad_request", message: "Malformed HTTP request" }))
}

/**
 * Starts listening; rejects if the port cannot be bound.
 *
 * @since 0.1.0
 * @category constructors
 */
export const listen = (options: Options): Promise<HttpServer> => {
  const { logger, handlers } = options
  const active = new Set<ServerResponse>()
  let shuttingDown = false
  let closing: Promise<void> | undefined

  const tooLarge = (request: IncomingMessage, response: ServerResponse) => {
    response.setHeader("connection", "close")
    send(response, 413, json, bodies.tooLarge)
    request.resume()
  }

  /** Reads the body, counting the bytes as they stream in, then hands the request to yoga. */
  const graphql = (request: BufferedRequest, response: ServerResponse, state: RequestLog.RequestState) => {
    for (const name in Hardening.noStoreHeaders) response.setHeader(name, Hardening.noStoreHeaders[name]!)
    if (options.varyOrigin) response.setHeader("vary", "Origin")
    const method = request.method
    if (method === "GET" || method === "HEAD" || method === "OPTIONS") return handlers.graphql(request, response, state)
    const declared = Number(request.headers["content-length"])
    if (declared > Hardening.maxBodyBytes) return tooLarge(request, response)

    const chunks: Array<Buffer> = []
    let size = 0
    const cleanup = () => {
      request.off("data", onData)
      request.off("end", onEnd)
      request.off("error", cleanup)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size <= Hardening.maxBodyBytes) return void chunks.push(chunk)
      cleanup()
      tooLarge(request, response)
    }
    const onEnd = () => {
      cleanup()
      if (size === 0) request.body = Readable.from([])
      else {
        const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)
        request.body = parsedJsonBody(request.headers["content-type"], bytes) ?? bytes
      }
      return handlers.graphql(request, response, state)
    }
    request.on("data", onData)
    request.on("end", onEnd)
    request.on("error", cleanup)
  }

  const probe = (response: ServerResponse) => {
    if (shuttingDown) return send(response, 503, json, bodies.shuttingDown)
    handlers.ready().then(
      (report) => send(response, report.ready ? 200 : 503, json, JSON.stringify(report.body)),
      () => send(response, 503, json, bodies.notReady)
    )
  }

  const route = (request: IncomingMessage, response: ServerResponse, path: string, state: RequestLog.RequestState) => {
    const readOnly = request.method === "GET" || request.method === "HEAD"
    switch (path) {
      case "/graphql":
        return graphql(request, response, state)
      case "/healthz":
        if (!readOnly) return methodNotAllowed(response, "GET, HEAD")
        return shuttingDown ? send(response, 503, json, bodies.shuttingDown) : send(response, 200, json, bodies.healthy)
      case "/readyz":
        return readOnly ? probe(response) : methodNotAllowed(response, "GET, HEAD")
      default:
        if (handlers.files !== undefined && path.startsWith(handlers.files.prefix)) {
          return handlers.files.serve(request, response, path)
        }
        return send(response, 404, json, bodies.notFound)
    }
  }

  const limits = options.limits ?? Hardening.httpLimits
  const tracer = options.tracer
  const server = createServer({
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    maxHeaderSize: limits.maxHeaderBytes,
    connectionsCheckingInterval: limits.checkIntervalMs
  })

  server.on("request", (request: IncomingMessage, response: ServerResponse) => {
    const state = RequestLog.start()
    const path = RequestLog.pathOf(request.url ?? "/")
    response.setHeader(RequestLog.requestIdHeader, state.id)
    if (tracer !== undefined && path === "/graphql") state.span = tracer.startRequest(request, response, path)
    if (shuttingDown) response.setHeader("connection", "close")
    active.add(response)
    response.once("close", () => {
      active.delete(response)
      if (state.span !== undefined) tracer?.endRequest(state.span, response.statusCode, response.writableFinished)
      RequestLog.write(
        logger,
        state,
        {
          method: request.method ?? "",
          path: knownPaths.has(path) || handlers.files?.paths.has(path) ? path : "(unmatched)"
        },
        { status: response.statusCode, finished: response.writableFinished }
      )
      if (shuttingDown) server.closeIdleConnections()
    })
    try {
      const pending = route(request, response, path, state)
      if (pending instanceof Promise) pending.catch(() => send(response, 500, json, bodies.internal))
    } catch {
      send(response, 500, json, bodies.internal)
    }
  })
  server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
    // A response under way (its headers sent) cannot be followed by another status line.
    const pending = (socket as { _httpMessage?: ServerResponse })._httpMessage
    if (!socket.writable || pending?.headersSent === true || error.code === "ECONNRESET") return void socket.destroy()
    const timedOut = error.code === "ERR_HTTP_REQUEST_TIMEOUT"
    // A request whose body timed out already has a response object: its log line says 408.
    if (pending !== undefined && timedOut) pending.statusCode = 408
    socket.end(
      error.code === "HPE_HEADER_OVERFLOW"
        ? clientErrorAnswers.headersTooLarge
        : timedOut
          ? clientErrorAnswers.timeout
          : clientErrorAnswers.badRequest
    )
  })

  const close = (graceMs = 10_000): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      shuttingDown = true
      if (logger.isEnabled(LogLevel.Info)) logger.log(LogLevel.Info, "shutting down", { inFlight: active.size })
      for (const response of active) if (!response.headersSent) response.setHeader("connection", "close")
      const deadline = setTimeout(() => {
        if (logger.isEnabled(LogLevel.Warning) && active.size > 0) {
          logger.log(LogLevel.Warning, "grace period over, closing connections", { inFlight: active.size })
        }
        server.closeAllConnections()
      }, graceMs)
      deadline.unref()
      server.close(() => {
        clearTimeout(deadline)
        resolve()
      })
      server.closeIdleConnections()
    })
    return closing
  }

  return Listening.listen(server, options.host, options.port).then(({ origin, port }) => ({
    url: origin,
    port,
    inFlight: () => active.size,
    close
  }))
}
