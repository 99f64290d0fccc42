/**
 * A loopback HTTP proxy in front of a server (the sandbox, as DDN) that records the headers of every
 * request it forwards, so a test can check what the gateway sent upstream.
 */
import { createServer, request as forward, type IncomingHttpHeaders } from "node:http"
import * as Loopback from "./Loopback.js"

/** A running proxy. */
export interface RecordingProxy {
  /** `http://127.0.0.1:<port>`: use it as `DDN_API_URL`. */
  readonly url: string
  /** The headers of every request forwarded so far. */
  readonly requests: () => ReadonlyArray<{ readonly path: string; readonly headers: IncomingHttpHeaders }>
  readonly stop: () => Promise<void>
}

/** Starts a proxy to `target` on a free loopback port. */
export const start = (target: string): Promise<RecordingProxy> => {
  const upstream = new URL(target)
  const seen: Array<{ path: string; headers: IncomingHttpHeaders }> = []
  const server = createServer((request, response) => {
    seen.push({ path: request.url ?? "/", headers: { ...request.headers } })
    const outgoing = forward(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: request.method,
        path: request.url,
        headers: { ...request.headers, host: upstream.host }
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(response)
      }
    )
    outgoing.on("error", () => response.destroy())
    response.on("close", () => {
      if (!response.writableFinished) outgoing.destroy()
    })
    request.pipe(outgoing)
  })
  return Loopback.listen(server).then(({ url, stop }): RecordingProxy => ({ url, requests: () => seen, stop }))
}
