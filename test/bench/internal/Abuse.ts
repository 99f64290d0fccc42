/**
 * The soak's abuse phase: honest users next to one abusive client, through a gateway behind one
 * trusted proxy (`TRUST_PROXY_HOPS=1`, each simulated client its own `X-Forwarded-For` address), in
 * front of a sandbox that rate-limits like DDN (`SANDBOX_RATE_LIMIT_RPS`, one budget for everyone).
 *
 * - Honest users keep refresh chains going as real clients do, within the per-client limit: a
 *   refresh every 1–2 s, a tenth of them as three racing tabs.
 * - The abuser sends random invalid tokens at `floodRps` and requests it aborts 50 ms after sending
 *   (fire and forget) at `abortRps`, open loop (it does not wait for answers), prepending forged
 *   `X-Forwarded-For` entries to every request. The rates are what one client can send without
 *   using up this 2-core machine's CPU: a flood beyond the gateway's CPU is for the proxy in front
 *   (connection and request-rate limits), not for a per-client refresh limit.
 *
 * The honest users run alone for the first third of the phase (the quiet window, after 2 s of
 * warm-up), then next to the abuser (the abused window), so that the abuser's effect on them is told
 * apart from the machine's own noise. Figures per window: the honest users' success rate (a
 * `TokenPair` for every request) and latency; for the abused window also the abuser's requests and
 * how the gateway answered them, and DDN calls per honest refresh.
 */
import type { Agent } from "node:http"
import { between, labelOf, sleep } from "./Answers.js"
import * as Endpoints from "./Endpoints.js"
import * as Load from "./Load.js"
import * as Processes from "./Processes.js"

/** How one abuse phase runs. */
export interface Options {
  readonly seconds: number
  readonly honestUsers: number
  /** The sandbox's global limit, requests per second. */
  readonly upstreamRps: number
  /** The abuser's requests per second with random invalid tokens. */
  readonly floodRps: number
  /** The abuser's requests per second aborted 50 ms after sending. */
  readonly abortRps: number
  /** Gateway variables on top of `Processes.gateway`'s, e.g. `RATE_LIMIT_PER_MINUTE` (60 as shipped, 0 off). */
  readonly gatewayEnv?: Readonly<Record<string, string>>
}

/** The honest users' figures over one window. */
export interface HonestFigures {
  readonly seconds: number
  readonly requests: number
  readonly pairs: number
  readonly successRate: number
  readonly p50: number
  readonly p99: number
  /** Distinct refresh tokens refreshed (racing tabs share one). */
  readonly refreshes: number
  readonly failures: Readonly<Record<string, number>>
}

/** What one abuse phase measured. */
export interface Figures {
  /** The honest users alone, then next to the abuser. */
  readonly quiet: HonestFigures
  readonly abused: HonestFigures
  readonly abuser: {
    readonly requests: number
    readonly byAnswer: Readonly<Record<string, number>>
  }
  /** DDN over the abused window. */
  readonly upstream: {
    readonly calls: number
    readonly rateLimited: number
    readonly callsPerHonestRefresh: number
  }
  readonly gatewayExitCode: number | null
}

/** The label of a request that got no answer. */
const labels = { TimedOut: "client_timeout", Aborted: "aborted", TransportError: "transport_error" } as const

/** The first seconds of a phase, while the fresh gateway warms up, count in no window. */
const warmUpMs = 2_000

/** The most abusive requests the driver keeps open at once (beyond it, the abuser skips a beat). */
const maxAbusiveInFlight = 512

/** Runs one abuse phase: its own sandbox and gateway processes, stopped at the end. */
export const run = async (options: Options): Promise<Figures> => {
  const sandbox = await Processes.sandbox({
    SANDBOX_RATE_LIMIT_RPS: String(options.upstreamRps),
    SANDBOX_LATENCY_MS: "1-5",
    SANDBOX_REFRESH_TOKEN_TTL_S: "1800"
  })
  const gateway = await Processes.gateway(sandbox.url, {
    LOG_LEVEL: "info",
    TRUST_PROXY_HOPS: "1",
    ...options.gatewayEnv
  })
  const graphqlUrl = `${gateway.url}/graphql`
  const honestAgent = Load.keepAliveAgent(options.honestUsers * 4)
  const abusiveAgent = Load.keepAliveAgent(maxAbusiveInFlight)

  /** One request as a simulated client sends it (`forwardedFor` its `X-Forwarded-For`), read into a label. */
  const send = async (
    agent: Agent,
    token: string,
    forwardedFor: string,
    abortAfterMs?: number
  ): Promise<{ readonly label: string; readonly pair?: string; readonly ms: number }> => {
    const sent = await Load.send({
      url: graphqlUrl,
      token,
      agent,
      headers: { "x-forwarded-for": forwardedFor },
      timeoutMs: 25_000,
      abortAfterMs
    })
    return {
      ...(sent._tag === "Answered" ? labelOf(sent.status, sent.body) : { label: labels[sent._tag] }),
      ms: sent.ms
    }
  }

  const windows = { quiet: newWindow(), abused: newWindow() }
  const abusiveAnswers: Record<string, number> = {}
  let abusiveRequests = 0
  const stats = () => Endpoints.sandboxStats(sandbox.url)

  const startedAt = Date.now()
  const quietFrom = startedAt + warmUpMs
  const abuseFrom = startedAt + Math.max(warmUpMs + 3_000, (options.seconds * 1000) / 3)
  const endAt = startedAt + options.seconds * 1000

  const honestUser = async (index: number) => {
    const address = `10.${10 + (index >> 8)}.${index & 0xff}.${1 + (index % 200)}`
    let [token] = await Load.mintTokens(sandbox.url, 1)
    await sleep(between(0, 2_000))
    while (Date.now() < endAt) {
      const tabs = Math.random() < 0.1 ? 3 : 1
      const sentAt = Date.now()
      const answers = await Promise.all(Array.from({ length: tabs }, () => send(honestAgent, token!, address)))
      const window = sentAt >= abuseFrom ? windows.abused : sentAt >= quietFrom ? windows.quiet : undefined
      if (window !== undefined) {
        window.refreshes += 1
        for (const answer of answers) {
          window.latencies.push(answer.ms)
          if (answer.label === "pair") window.pairs += 1
          else window.failures[answer.label] = (window.failures[answer.label] ?? 0) + 1
        }
      }
      const pair = answers.find((answer) => answer.pair !== undefined)?.pair
      if (pair !== undefined) token = pair
      else [token] = await Load.mintTokens(sandbox.url, 1)
      await sleep(between(1_000, 2_000))
    }
  }

  const abuserAddress = "203.0.113.66"
  const forged = () => `${Math.floor(Math.random() * 256)}.${Math.floor(Math.random() * 256)}.7.7, ${abuserAddress}`
  const randomToken = () =>
    `${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`.padEnd(43, "x")
  let abusiveInFlight = 0
  const fire = (abortAfterMs?: number) => {
    if (abusiveInFlight >= maxAbusiveInFlight) {
      abusiveAnswers.skipped = (abusiveAnswers.skipped ?? 0) + 1
      return
    }
    abusiveInFlight += 1
    abusiveRequests += 1
    void send(abusiveAgent, randomToken(), forged(), abortAfterMs).then((answer) => {
      abusiveInFlight -= 1
      abusiveAnswers[answer.label] = (abusiveAnswers[answer.label] ?? 0) + 1
    })
  }
  /** Open loop: every 10 ms or so, the requests due at each rate since the last tick (fractions carried over). */
  let before: Endpoints.SandboxStats = { refreshRequests: 0, rateLimited: 0 }
  const abuser = async () => {
    await sleep(abuseFrom - Date.now())
    before = await stats()
    let flood = 0
    let aborts = 0
    let last = Date.now()
    while (Date.now() < endAt) {
      const now = Date.now()
      flood += (options.floodRps * (now - last)) / 1000
      aborts += (options.abortRps * (now - last)) / 1000
      last = now
      for (; flood >= 1; flood--) fire()
      for (; aborts >= 1; aborts--) fire(50)
      await sleep(10)
    }
    while (abusiveInFlight > 0) await sleep(10)
  }

  await Promise.all([...Array.from({ length: options.honestUsers }, (_, index) => honestUser(index)), abuser()])
  const finishedAt = Date.now()
  honestAgent.destroy()
  abusiveAgent.destroy()
  // Detached upstream calls of aborted requests may still be under way: let them land before counting.
  await sleep(1_000)
  const after = await stats()
  const gatewayExitCode = await gateway.stop()
  await sandbox.stop()

  const calls = after.refreshRequests - before.refreshRequests
  return {
    quiet: figuresOf(windows.quiet, (abuseFrom - quietFrom) / 1000),
    abused: figuresOf(windows.abused, (finishedAt - abuseFrom) / 1000),
    abuser: { requests: abusiveRequests, byAnswer: abusiveAnswers },
    upstream: {
      calls,
      rateLimited: after.rateLimited - before.rateLimited,
      callsPerHonestRefresh: windows.abused.refreshes === 0 ? Number.NaN : calls / windows.abused.refreshes
    },
    gatewayExitCode
  }
}

/** The honest answers of one window, as they come in. */
interface Window {
  readonly latencies: Array<number>
  readonly failures: Record<string, number>
  pairs: number
  refreshes: number
}

const newWindow = (): Window => ({ latencies: [], failures: {}, pairs: 0, refreshes: 0 })

const figuresOf = (window: Window, seconds: number): HonestFigures => {
  const sorted = [...window.latencies].sort((a, b) => a - b)
  const requests = sorted.length
  return {
    seconds,
    requests,
    pairs: window.pairs,
    successRate: requests === 0 ? 0 : window.pairs / requests,
    p50: Load.quantile(sorted, 0.5),
    p99: Load.quantile(sorted, 0.99),
    refreshes: window.refreshes,
    failures: window.failures
  }
}

const honestLine = (name: string, figures: HonestFigures) =>
  `  honest users, ${name} (${figures.seconds.toFixed(0)} s): ${figures.requests} requests, ${(figures.successRate * 100).toFixed(2)} % answered with a pair, p50 ${figures.p50.toFixed(1)} ms, p99 ${figures.p99.toFixed(1)} ms${Object.keys(figures.failures).length > 0 ? `, otherwise ${JSON.stringify(figures.failures)}` : ""}`

/** The figures as printed lines. */
export const describe = (label: string, figures: Figures): ReadonlyArray<string> => [
  label,
  honestLine("alone", figures.quiet),
  honestLine("next to the abuser", figures.abused),
  `  abuser: ${figures.abuser.requests} requests (${(figures.abuser.requests / figures.abused.seconds).toFixed(0)}/s), answered ${JSON.stringify(figures.abuser.byAnswer)}`,
  `  DDN meanwhile: ${figures.upstream.calls} calls (${(figures.upstream.calls / figures.abused.seconds).toFixed(1)}/s), ${figures.upstream.rateLimited} answered 429, ${figures.upstream.callsPerHonestRefresh.toFixed(2)} calls per honest refresh (${figures.abused.refreshes} honest refreshes)`
]
