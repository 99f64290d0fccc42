/**
 * Load at a fixed concurrency: autocannon sending `refreshToken` mutations, each with a refresh token
 * of its own minted ahead of the round, and checking that every answer is a `TokenPair`. Latencies are
 * recorded at sub-millisecond precision from autocannon's own per-response timings.
 *
 * Also the one-mutation client the drivers use outside autocannon ({@link send}), over `node:http`
 * with a keep-alive agent, as the simulated users of the soak and the single-flight part of the bench.
 */
import { Agent, request } from "node:http"
import autocannon from "autocannon"

/** The mutation every load request sends; the token goes in the variables. */
export const refreshMutation =
  "mutation Refresh($refreshToken: String!) { refreshToken(refreshToken: $refreshToken) { __typename ... on TokenPair { accessToken refreshToken expiresIn tokenType expiresAt } ... on RefreshTokenRejected { reason message } } }"

const bodyPrefix = `{"query":${JSON.stringify(refreshMutation)},"variables":{"refreshToken":`

/** The JSON body of a `refreshToken` mutation for `token`. */
export const refreshBody = (token: string): string => `${bodyPrefix}${JSON.stringify(token)}}}`

/** Headers of every load request, as a GraphQL client over HTTP sends them. */
export const refreshHeaders = { "content-type": "application/json", accept: "application/json" }

/**
 * A keep-alive agent that closes an idle socket before the server does. Node's agent reads the
 * server's `Keep-Alive: timeout=N` hint only when the agent has a `timeout` of its own; without one
 * it keeps idle sockets forever, and reusing one the instant the gateway closes it (after 5 s idle)
 * ends in ECONNRESET, as browsers and undici avoid by honouring the hint.
 */
export const keepAliveAgent = (maxSockets: number): Agent => new Agent({ keepAlive: true, maxSockets, timeout: 60_000 })

/** How one mutation sent with {@link send} ended, and `ms` after it was sent. */
export type Sent =
  | { readonly _tag: "Answered"; readonly status: number; readonly body: string; readonly ms: number }
  | { readonly _tag: "TimedOut" | "Aborted"; readonly ms: number }
  /** `detail`: the socket error's code, the phase, and whether the keep-alive socket was a reused one. */
  | { readonly _tag: "TransportError"; readonly ms: number; readonly detail: string }

/**
 * Sends one `refreshToken` mutation for `token` to `url` (the GraphQL endpoint) over `agent` (default
 * Node's global one), with `headers` added to {@link refreshHeaders}. It gives up after `timeoutMs`
 * (`TimedOut`), or the client aborts it after `abortAfterMs` (`Aborted`), whichever comes first;
 * a connection error or a reset is a `TransportError`. Never rejects.
 */
export const send = (options: {
  readonly url: string
  readonly token: string
  readonly agent?: Agent | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
  readonly timeoutMs?: number | undefined
  readonly abortAfterMs?: number | undefined
}): Promise<Sent> =>
  new Promise((resolve) => {
    const startedAt = performance.now()
    const controller = new AbortController()
    const timers: Array<ReturnType<typeof setTimeout>> = []
    let settled = false
    const settle = (sent: Sent) => {
      if (settled) return
      settled = true
      for (const timer of timers) clearTimeout(timer)
      resolve(sent)
    }
    const elapsed = () => performance.now() - startedAt
    const stopAfter = (_tag: "TimedOut" | "Aborted", ms: number | undefined) => {
      if (ms === undefined) return
      timers.push(
        setTimeout(() => {
          settle({ _tag, ms: elapsed() })
          controller.abort()
        }, ms)
      )
    }
    stopAfter("TimedOut", options.timeoutMs)
    stopAfter("Aborted", options.abortAfterMs)
    const req = request(
      options.url,
      {
        method: "POST",
        agent: options.agent,
        headers: options.headers === undefined ? refreshHeaders : { ...refreshHeaders, ...options.headers },
        signal: controller.signal
      },
      (res) => {
        const chunks: Array<Buffer> = []
        res.on("data", (chunk: Buffer) => chunks.push(chunk))
        res.on("end", () =>
          settle({
            _tag: "Answered",
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString("utf8"),
            ms: elapsed()
          })
        )
        res.on("error", (error) => settle(transportError(error, "response")))
      }
    )
    const transportError = (error: NodeJS.ErrnoException, phase: string): Sent => ({
      _tag: "TransportError",
      ms: elapsed(),
      detail: `${error.code ?? error.name} in the ${phase}, on a ${req.reusedSocket ? "reused keep-alive" : "new"} socket`
    })
    req.on("error", (error) => settle(transportError(error, "request")))
    req.end(refreshBody(options.token))
  })

/** Mints `count` sessions on the sandbox at `sandboxUrl` (`POST /sandbox/sessions?count=N`) and returns their refresh tokens. */
export const mintTokens = async (sandboxUrl: string, count: number): Promise<Array<string>> => {
  const tokens: Array<string> = []
  while (tokens.length < count) {
    const batch = Math.min(50_000, count - tokens.length)
    const response = await fetch(`${sandboxUrl}/sandbox/sessions?count=${batch}`, { method: "POST" })
    if (response.status !== 201) throw new Error(`minting sessions failed: HTTP ${response.status}`)
    for (const grant of (await response.json()) as Array<{ refreshToken: string }>) tokens.push(grant.refreshToken)
  }
  return tokens
}

/** What one round measured. */
export interface Round {
  /** Answers received within the round. */
  readonly requests: number
  readonly seconds: number
  /** Answers per second. */
  readonly rps: number
  /** Latency percentiles in milliseconds. */
  readonly p50: number
  readonly p99: number
  /** Answers that were not a `TokenPair` (any status), connection errors and timeouts. */
  readonly errors: number
  /** Whether the round used up its tokens (then it is invalid: the rest would be resubmissions). */
  readonly ranOut: boolean
}

/** The `q` quantile of sorted values (nearest rank). */
export const quantile = (sorted: ArrayLike<number>, q: number): number =>
  sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!

/** The median of values (unsorted). */
export const median = (values: ReadonlyArray<number>): number =>
  quantile(
    [...values].sort((a, b) => a - b),
    0.5
  )

/**
 * Sends `refreshToken` mutations to `url` from `connections` keep-alive connections, either for
 * `seconds` or for exactly `amount` requests, one token of `tokens` per request.
 */
export const run = async (options: {
  readonly url: string
  readonly connections: number
  readonly tokens: ReadonlyArray<string>
  readonly seconds?: number
  readonly amount?: number
}): Promise<Round> => {
  const { tokens } = options
  let next = 0
  let ranOut = false
  let wrongAnswers = 0
  const latencies = new Float64Array(Math.max(options.amount ?? 0, tokens.length) + options.connections)
  let answered = 0

  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        ...(options.amount === undefined ? { duration: options.seconds ?? 10 } : { amount: options.amount }),
        timeout: 30,
        method: "POST",
        headers: refreshHeaders,
        requests: [
          {
            setupRequest: (request) => {
              if (next >= tokens.length) ranOut = true
              const token = tokens[Math.min(next++, tokens.length - 1)]!
              return { ...request, body: refreshBody(token) }
            },
            onResponse: (_status, body) => {
              if (!body.includes('"__typename":"TokenPair"')) wrongAnswers += 1
            }
          }
        ]
      },
      (error: unknown, result) => (error ? reject(error) : resolve(result))
    )
    instance.on("response", (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
      if (answered < latencies.length) latencies[answered++] = responseTime
    })
  })
  const sorted = latencies.subarray(0, answered).sort()
  const requests = answered
  return {
    requests,
    seconds: result.duration,
    rps: requests / result.duration,
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    errors: wrongAnswers + result.errors,
    ranOut
  }
}
