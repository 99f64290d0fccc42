/** @internal */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http"

/** Bytes past the body limit that are read and discarded before the connection is cut. */
const discardLimitBytes = 1024 * 1024

export type Body = Buffer | "too-large" | "aborted"

/**
 * Reads a request body of at most `limit` bytes. Past the limit (or when `Content-Length` announces
 * more) it resolves `"too-large"` at once and discards the rest, so the connection can be reused,
 * cutting it when the client keeps sending more than a megabyte.
 */
export const readBody = (req: IncomingMessage, limit: number): Promise<Body> =>
  new Promise((resolve) => {
    const chunks: Array<Buffer> = []
    let size = 0
    let settled = false
    const settle = (body: Body) => {
      if (settled) return
      settled = true
      resolve(body)
    }
    const declared = req.headers["content-length"]
    if (declared !== undefined && Number(declared) > limit) settle("too-large")
    req.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (settled) {
        if (size > discardLimitBytes) req.socket.destroy()
      } else if (size > limit) {
        chunks.length = 0
        settle("too-large")
      } else {
        chunks.push(chunk)
      }
    })
    req.once("end", () => settle(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)))
    req.once("close", () => settle("aborted"))
  })

/** Writes a complete response with a `Content-Length`. */
export const send = (res: ServerResponse, status: number, headers: OutgoingHttpHeaders, body: string): void => {
  if (res.headersSent || res.destroyed) return
  res.writeHead(status, { ...headers, "content-length": Buffer.byteLength(body) })
  res.end(body)
}

/** Waits `ms`; resolves `false` early if the connection closes meanwhile. */
export const delay = (res: ServerResponse, ms: number): Promise<boolean> =>
  new Promise((resolve) => {
    const onClose = () => {
      clearTimeout(timer)
      resolve(false)
    }
    const timer = setTimeout(() => {
      res.off("close", onClose)
      resolve(!res.destroyed)
    }, ms)
    res.once("close", onClose)
  })

/** True when the `Content-Type` header names `application/json`, parameters aside. */
export const isJson = (contentType: string | undefined): boolean => {
  if (contentType === undefined) return false
  const semicolon = contentType.indexOf(";")
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase() === "application/json"
}
