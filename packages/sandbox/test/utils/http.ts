import { type Agent, type IncomingHttpHeaders, type OutgoingHttpHeaders, request } from "node:http"

export interface Reply {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly text: string
  readonly json: () => unknown
}

export interface Send {
  readonly method?: string
  readonly headers?: OutgoingHttpHeaders
  readonly body?: string | Buffer
  /** `false` for a connection of its own; default the global (keep-alive) agent. */
  readonly agent?: Agent | false
  readonly signal?: AbortSignal
}

/** One HTTP request over node:http, resolving with the whole response. */
export const send = (url: string, { method = "GET", headers = {}, body, agent, signal }: Send = {}): Promise<Reply> =>
  new Promise((resolve, reject) => {
    const req = request(
      url,
      { method, headers, ...(agent === undefined ? {} : { agent }), ...(signal ? { signal } : {}) },
      (res) => {
        const chunks: Array<Buffer> = []
        res.on("data", (chunk: Buffer) => chunks.push(chunk))
        res.on("error", reject)
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8")
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) })
        })
      }
    )
    req.on("error", reject)
    req.end(body)
  })

/** `POST` a JSON value. */
export const postJson = (url: string, value: unknown, extra: Send = {}): Promise<Reply> =>
  send(url, {
    ...extra,
    method: "POST",
    headers: { "content-type": "application/json", ...extra.headers },
    body: JSON.stringify(value)
  })

/** `POST /gateway/auth/refresh` with a refresh token. */
export const refresh = (baseUrl: string, refreshToken: string, extra: Send = {}): Promise<Reply> =>
  postJson(`${baseUrl}/gateway/auth/refresh`, { refreshToken }, extra)
