/**
 * The upstream probe behind `GET /readyz`: a `POST` of the refresh endpoint with an empty token.
 * Any HTTP answer below 500 within the timeout (2 s) means DDN is there (it answers 400 to an empty
 * token); a 5xx, a connection error or silence means it is not. Concurrent probes share one request,
 * so a flood of `/readyz` calls cannot become a flood upstream. The report adds how refreshes are
 * coordinated: `/readyz` stays 200 while DDN answers, whether Redis does or not.
 *
 * @since 0.1.0
 */
import { DdnAuthClient } from "@ddn/auth"

/** How long the upstream has to answer a probe. */
export const probeTimeoutMs = 2_000

const probeBody = JSON.stringify({ refreshToken: "" })

/** What `/readyz` reports: whether DDN answers, and the members its JSON body adds to `status`. */
export interface Report {
  readonly ready: boolean
  readonly details: Readonly<Record<string, unknown>>
}

/** The readiness report: the upstream `probe`, and how refreshes are coordinated (`memory`, `redis`, `degraded`). */
export const report =
  (probe: () => Promise<boolean>, coordination: () => Promise<string>): (() => Promise<Report>) =>
  async () => {
    const [ready, mode] = await Promise.all([probe(), coordination()])
    return { ready, details: { coordination: mode } }
  }

/** A probe of `apiUrl`'s refresh endpoint: resolves `true` when the upstream answers. */
export const make = (apiUrl: URL | string, timeoutMs = probeTimeoutMs): (() => Promise<boolean>) => {
  const target = `${new URL(apiUrl).href.replace(/\/+$/, "")}${DdnAuthClient.refreshPath}`
  let pending: Promise<boolean> | undefined

  const probe = async (): Promise<boolean> => {
    try {
      const response = await fetch(target, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: probeBody,
        signal: AbortSignal.timeout(timeoutMs)
      })
      await response.arrayBuffer()
      return response.status < 500
    } catch {
      return false
    }
  }

  return () => {
    pending ??= probe().finally(() => {
      pending = undefined
    })
    return pending
  }
}
