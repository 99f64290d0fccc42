/**
 * The `/metrics` listener, apart from the public port: `METRICS_PORT` (default 9464, the
 * OpenTelemetry Prometheus exporter's port; 0 picks a free one) on `METRICS_HOST` (default
 * `127.0.0.1`, so only the machine or the pod's own network namespace can scrape it). It answers
 * `GET`/`HEAD /metrics` with the Prometheus text, 405 for other methods and 404 elsewhere, and keeps
 * no connection alive longer than 5 s; `close` ends it with the gateway.
 *
 * @since 0.1.0
 */
import { createServer, type ServerResponse } from "node:http"
import * as Listening from "@ddn/sandbox/Listening"

/**
 * Where to listen and what to serve.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly host: string
  readonly port: number
  /** The Prometheus text and its `Content-Type`. */
  readonly render: () => Promise<{ readonly contentType: string; readonly body: string }>
}

/**
 * A listening metrics server.
 *
 * @since 0.1.0
 * @category models
 */
export interface MetricsServer {
  /** e.g. `http://127.0.0.1:9464/metrics`, with the actual port. */
  readonly url: string
  readonly port: number
  /** Stops listening and closes every connection. Idempotent. */
  readonly close: () => Promise<void>
}

/**
 * The path metrics are served on.
 *
 * @since 0.1.0
 * @category constants
 */
export const path = "/metrics"

const send = (response: ServerResponse, status: number, contentType: string, body: string) => {
  if (response.headersSent || response.destroyed) return
  response.statusCode = status
  response.setHeader("content-type", contentType)
  response.setHeader("content-length", Buffer.byteLength(body))
  response.setHeader("cache-control", "no-store")
  response.end(body)
}

const json = "application/json; charset=utf-8"

/**
 * Starts listening; rejects if the port cannot be bound.
 *
 * @since 0.1.0
 * @category constructors
 */
export const listen = (options: Options): Promise<MetricsServer> => {
  const server = createServer({ keepAliveTimeout: 5_000, headersTimeout: 5_000, requestTimeout: 10_000 })
  server.on("request", (request, response) => {
    const url = request.url ?? "/"
    const query = url.indexOf("?")
    if ((query === -1 ? url : url.slice(0, query)) !== path) {
      return send(response, 404, json, JSON.stringify({ error: "not_found", message: "No such route" }))
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.setHeader("allow", "GET, HEAD")
      return send(response, 405, json, JSON.stringify({ error: "method_not_allowed", message: "Allowed: GET, HEAD" }))
    }
    options.render().then(
      ({ contentType, body }) => send(response, 200, contentType, body),
      () => send(response, 500, json, JSON.stringify({ error: "internal", message: "Internal server error" }))
    )
  })
  server.on("clientError", (_error, socket) => socket.destroy())

  let closing: Promise<void> | undefined
  const close = () => {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    })
    return closing
  }

  return Listening.listen(server, options.host, options.port).then(({ origin, port }) => ({
    url: `${origin}${path}`,
    port,
    close
  }))
}
