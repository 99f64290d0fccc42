/**
 * The least possible server the gateway is compared with: `node:http`, parse the JSON body of a
 * GraphQL request, take the refresh token from its variables, call the same upstream with `fetch`
 * (Node's pooled keep-alive undici), and answer in the gateway's JSON shape. No GraphQL parsing or
 * validation, no retries, no limits, no logs, no metrics.
 *
 *   PORT=0 DDN_API_URL=http://127.0.0.1:4010 node --import tsx test/bench/minimal-proxy.ts
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"

const apiUrl = process.env.DDN_API_URL
if (apiUrl === undefined || apiUrl === "") throw new Error("set DDN_API_URL")
const refreshUrl = new URL("/gateway/auth/refresh", apiUrl).href

interface Grant {
  readonly accessToken: string
  readonly refreshToken: string
  readonly expiresIn: number
  readonly tokenType: string
}

const answer = (response: ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body)
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store"
  })
  response.end(text)
}

const rejected = (reason: "INVALID" | "EXPIRED") => ({
  data: { refreshToken: { __typename: "RefreshTokenRejected", reason, message: "Sign in again." } }
})

const unavailable = {
  data: null,
  errors: [{ message: "The token service is unavailable.", extensions: { code: "UPSTREAM_UNAVAILABLE" } }]
}

const refresh = async (body: string): Promise<unknown> => {
  const request = JSON.parse(body) as { readonly variables?: Readonly<Record<string, unknown>> }
  const refreshToken = Object.values(request.variables ?? {})[0]
  const upstream = await fetch(refreshUrl, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ refreshToken })
  })
  if (upstream.status === 200) {
    const grant = (await upstream.json()) as Grant
    return {
      data: {
        refreshToken: {
          __typename: "TokenPair",
          accessToken: grant.accessToken,
          refreshToken: grant.refreshToken,
          expiresIn: grant.expiresIn,
          tokenType: grant.tokenType,
          expiresAt: new Date(Date.now() + grant.expiresIn * 1000).toISOString()
        }
      }
    }
  }
  await upstream.arrayBuffer()
  return upstream.status === 400 ? rejected("INVALID") : upstream.status === 401 ? rejected("EXPIRED") : unavailable
}

const server = createServer((request: IncomingMessage, response: ServerResponse) => {
  const chunks: Array<Buffer> = []
  request.on("data", (chunk: Buffer) => chunks.push(chunk))
  request.on("end", () => {
    refresh(Buffer.concat(chunks).toString("utf8")).then(
      (body) => answer(response, 200, body),
      () => answer(response, 200, unavailable)
    )
  })
})

server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo
  process.stdout.write(`Minimal proxy listening on http://127.0.0.1:${port}\n`)
})
process.once("SIGTERM", () => {
  server.close(() => process.exit(0))
  server.closeIdleConnections()
})
