/**
 * The soak's DDN outage phase: honest users keep refresh chains going (a refresh every 1–2 s, a
 * tenth of them as three racing tabs) through a gateway as shipped, in front of a sandbox that
 * answers every refresh 503 for the middle half of the phase (followed by at least 12 s of a healthy DDN) (`POST /sandbox/faults` with an
 * `outage`), healthy before and after. A user whose refresh fails keeps its token (a 503 spends
 * nothing) and tries again 1–2 s later, as a client told `retryable` would.
 *
 * Figures: DDN calls per honest refresh during the outage (every attempt the gateway made, over the
 * refreshes sent in it; the retries of a refresh without the circuit breaker made it 4), how the
 * honest refreshes were answered meanwhile, and the time to recover: from the end of the outage to
 * the first `TokenPair` answered to a refresh sent after it.
 */

import { between, labelOf, sleep } from "./Answers.js"
import * as Endpoints from "./Endpoints.js"
import * as Load from "./Load.js"
import * as Processes from "./Processes.js"

/** How one outage phase runs. */
export interface Options {
  readonly seconds: number
  readonly honestUsers: number
  /** Gateway variables on top of `Processes.gateway`'s. */
  readonly gatewayEnv?: Readonly<Record<string, string>>
}

/** What one outage phase measured. */
export interface Figures {
  readonly outageSeconds: number
  /** Refreshes sent during the outage (racing tabs count once), and how they were answered. */
  readonly refreshesDuringOutage: number
  readonly answersDuringOutage: Readonly<Record<string, number>>
  /** DDN calls during the outage. */
  readonly upstreamCalls: number
  readonly callsPerRefresh: number
  /** Seconds from the outage's end to the first pair answered to a refresh sent after it; NaN if none came. */
  readonly recoverySeconds: number
  /** Refreshes answered with a pair before the outage and after it. */
  readonly pairsBefore: number
  readonly pairsAfter: number
  readonly gatewayExitCode: number | null
}

/** Runs one outage phase: its own sandbox and gateway processes, stopped at the end. */
export const run = async (options: Options): Promise<Figures> => {
  const sandbox = await Processes.sandbox({ SANDBOX_LATENCY_MS: "1-5", SANDBOX_REFRESH_TOKEN_TTL_S: "1800" })
  const gateway = await Processes.gateway(sandbox.url, { LOG_LEVEL: "warn", ...options.gatewayEnv })
  const graphqlUrl = `${gateway.url}/graphql`
  const stats = async () => (await Endpoints.sandboxStats(sandbox.url)).refreshRequests

  /** One refresh, read into a label; no answer within 25 s counts as a transport error. */
  const send = async (token: string) => {
    const sent = await Load.send({ url: graphqlUrl, token, timeoutMs: 25_000 })
    return sent._tag === "Answered" ? labelOf(sent.status, sent.body) : { label: "transport_error" }
  }

  const startedAt = Date.now()
  const outageFrom = startedAt + Math.max(3_000, (options.seconds * 1000) / 4)
  const outageMs = Math.max(4_000, Math.round((options.seconds * 1000) / 2))
  const outageUntil = outageFrom + outageMs
  // At least 12 s after the outage: the breaker's open period (5 s) may have just begun when DDN came back.
  const endAt = Math.max(startedAt + options.seconds * 1000, outageUntil + 12_000)
  const answersDuringOutage: Record<string, number> = {}
  let refreshesDuringOutage = 0
  let pairsBefore = 0
  let pairsAfter = 0
  let firstPairAfter = Number.POSITIVE_INFINITY

  const honestUser = async () => {
    let [token] = await Load.mintTokens(sandbox.url, 1)
    await sleep(between(0, 2_000))
    while (Date.now() < endAt) {
      const tabs = Math.random() < 0.1 ? 3 : 1
      const sentAt = Date.now()
      const answers = await Promise.all(Array.from({ length: tabs }, () => send(token!)))
      const answeredAt = Date.now()
      const pair = answers.find((answer) => answer.pair !== undefined)?.pair
      if (sentAt >= outageFrom && sentAt < outageUntil) {
        refreshesDuringOutage += 1
        for (const answer of answers) answersDuringOutage[answer.label] = (answersDuringOutage[answer.label] ?? 0) + 1
      } else if (pair !== undefined && sentAt < outageFrom) pairsBefore += 1
      else if (pair !== undefined && sentAt >= outageUntil) {
        pairsAfter += 1
        firstPairAfter = Math.min(firstPairAfter, answeredAt)
      }
      if (pair !== undefined) token = pair
      else if (answers.some((answer) => answer.label === "rejected")) [token] = await Load.mintTokens(sandbox.url, 1)
      await sleep(between(1_000, 2_000))
    }
  }

  let upstreamCalls = 0
  const outage = async () => {
    await sleep(outageFrom - Date.now())
    const before = await stats()
    await Endpoints.injectFault(sandbox.url, { outage: { fault: { type: "status", status: 503 }, ms: outageMs } })
    await sleep(outageUntil - Date.now())
    upstreamCalls = (await stats()) - before
  }

  await Promise.all([...Array.from({ length: options.honestUsers }, () => honestUser()), outage()])
  const gatewayExitCode = await gateway.stop()
  await sandbox.stop()
  return {
    outageSeconds: outageMs / 1000,
    refreshesDuringOutage,
    answersDuringOutage,
    upstreamCalls,
    callsPerRefresh: refreshesDuringOutage === 0 ? Number.NaN : upstreamCalls / refreshesDuringOutage,
    recoverySeconds: Number.isFinite(firstPairAfter) ? (firstPairAfter - outageUntil) / 1000 : Number.NaN,
    pairsBefore,
    pairsAfter,
    gatewayExitCode
  }
}

/** The figures as printed lines. */
export const describe = (label: string, figures: Figures): ReadonlyArray<string> => [
  label,
  `  during the outage (${figures.outageSeconds.toFixed(0)} s): ${figures.refreshesDuringOutage} honest refreshes answered ${JSON.stringify(figures.answersDuringOutage)}; DDN got ${figures.upstreamCalls} calls, ${figures.callsPerRefresh.toFixed(2)} per refresh`,
  `  recovery: the first pair ${figures.recoverySeconds.toFixed(2)} s after the outage ended; ${figures.pairsBefore} pairs before the outage, ${figures.pairsAfter} after`
]
