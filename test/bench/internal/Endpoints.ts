/**
 * What the drivers read and set besides `/graphql`: the sandbox's controls (`GET /sandbox/stats`,
 * `POST /sandbox/faults`, `POST /sandbox/inspect`) and the gateway's operations endpoints (`/metrics`
 * on its own listener, `/readyz`).
 */

/** The sandbox's counters (`GET /sandbox/stats`); the drivers read these two, the soak prints them all. */
export interface SandboxStats {
  readonly refreshRequests: number
  readonly rateLimited: number
  readonly [counter: string]: unknown
}

const postJson = (url: string, body: unknown): Promise<Response> =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })

/** The sandbox's counters. */
export const sandboxStats = async (sandboxUrl: string): Promise<SandboxStats> =>
  (await (await fetch(`${sandboxUrl}/sandbox/stats`)).json()) as SandboxStats

/** Injects `fault` into the sandbox (`POST /sandbox/faults`: one fault, or e.g. `{ outage: … }`). */
export const injectFault = async (sandboxUrl: string, fault: object): Promise<void> => {
  await (await postJson(`${sandboxUrl}/sandbox/faults`, fault)).arrayBuffer()
}

/** What became of a refresh token upstream: its state, and whether its rotation's 200 was delivered. */
export const inspect = async (
  sandboxUrl: string,
  refreshToken: string
): Promise<{ readonly state: string; readonly rotation: "none" | "delivered" | "lost" }> =>
  (await (await postJson(`${sandboxUrl}/sandbox/inspect`, { refreshToken })).json()) as {
    readonly state: string
    readonly rotation: "none" | "delivered" | "lost"
  }

/** The gateway's Prometheus text, from its metrics listener. */
export const metrics = async (metricsUrl: string): Promise<string> => (await fetch(metricsUrl)).text()

/** A counter's value in a Prometheus text; NaN when the series is not there. */
export const counter = (text: string, name: string): number => {
  const match = new RegExp(`^${name} (\\S+)$`, "m").exec(text)
  return match === null ? Number.NaN : Number(match[1])
}

/** How the gateway at `gatewayUrl` coordinates, from `/readyz`; undefined when it does not answer. */
export const coordination = async (gatewayUrl: string): Promise<string | undefined> => {
  try {
    return ((await (await fetch(`${gatewayUrl}/readyz`)).json()) as { coordination?: string }).coordination
  } catch {
    return undefined
  }
}
