import type { SandboxServer } from "@ddn/sandbox"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  killAll,
  listeningUrl,
  postJson,
  refreshMutation,
  type Spawned,
  spawnGateway,
  startSandbox
} from "./support.js"

let sandbox: SandboxServer.RunningSandbox
let gateway: Spawned
let graphqlUrl: string

beforeAll(async () => {
  sandbox = await startSandbox()
  gateway = spawnGateway({
    DDN_API_URL: sandbox.url,
    LOG_LEVEL: "debug",
    DDN_REFRESH_TIMEOUT_MS: "2000",
    CORS_ORIGINS: "https://app.example.com"
  })
  graphqlUrl = `${await listeningUrl(gateway)}/graphql`
})

afterAll(async () => {
  await killAll()
  await sandbox?.stop()
})

/** Every secret the run handled: tokens sent and tokens received. */
const secrets = new Set<string>()
const remember = (value: unknown) => {
  if (typeof value === "string" && value.length >= 8) secrets.add(value)
}

const run = async (refreshToken: string, extra: Record<string, unknown> = {}) => {
  remember(refreshToken)
  const response = await postJson(graphqlUrl, { query: refreshMutation, variables: { refreshToken, ...extra } })
  const pair = response.body?.data?.refreshToken
  remember(pair?.accessToken)
  remember(pair?.refreshToken)
  return response
}

const mint = () => sandbox.authority.mintSession().refreshToken

describe("logs at LOG_LEVEL=debug", () => {
  it("contain one JSON line per request, and never a token, a piece of one, or the variables", async () => {
    let requests = 0
    const count = <A>(promise: Promise<A>) => {
      requests += 1
      return promise
    }

    // Success chains, rejections, and every system failure.
    let token = mint()
    let previous = token
    for (let i = 0; i < 5; i++) {
      previous = token
      token = (await count(run(token))).body.data.refreshToken.refreshToken
    }
    // A resubmission is answered from the reuse window; racing tabs share one upstream call.
    expect((await count(run(previous))).body.data.refreshToken.refreshToken).toBe(token)
    sandbox.faults.inject({ type: "latency", ms: 200 })
    const raced = mint()
    await Promise.all([count(run(raced)), count(run(raced)), count(run(raced))])
    for (let i = 0; i < 3; i++) {
      const replayed = mint()
      sandbox.authority.refresh(replayed) // spent elsewhere: a 401 upstream, not the reuse window
      expect((await count(run(replayed))).body.data.refreshToken.reason).toBe("EXPIRED")
    }
    await Promise.all(Array.from({ length: 20 }, () => count(run(mint()))))
    sandbox.faults.inject({ type: "status", status: 400 })
    await count(run(mint()))
    sandbox.faults.inject({ type: "status", status: 503 }, 4)
    await count(run(mint()))
    // Past the 2 s deadline; DDN's pause then holds every call for 3 s, waited out before going on.
    sandbox.faults.inject({ type: "status", status: 429, retryAfter: 3 })
    await count(run(mint()))
    await new Promise((resolve) => setTimeout(resolve, 3_000))
    sandbox.faults.inject({ type: "malformed" })
    await count(run(mint()))
    sandbox.faults.inject({ type: "reset", phase: "after" })
    await count(run(mint()))
    await count(run(`${mint()}\u0000control`))
    await count(run(`${mint()}${"y".repeat(9000)}`))
    await count(run(mint(), { unrelated: "variable-value-that-must-not-be-logged" }))

    // Refused before any execution, each carrying a token somewhere in the request.
    const secret = mint()
    remember(secret)
    const variables = encodeURIComponent(JSON.stringify({ refreshToken: secret }))
    await count(
      fetch(`${graphqlUrl}?query=${encodeURIComponent(refreshMutation)}&variables=${variables}`, {
        headers: { "x-graphql-yoga-csrf": "1" }
      })
    )
    await count(fetch(`${graphqlUrl}?query=${encodeURIComponent(refreshMutation)}&variables=${variables}`))
    await count(postJson(graphqlUrl, `{"query": "${refreshMutation}", "variables": {"refreshToken": "${secret}"`))
    await count(
      postJson(graphqlUrl, { query: `mutation { refreshToken(refreshToken: "${secret}") { __typename } x }` })
    )
    await count(postJson(graphqlUrl, [{ query: refreshMutation, variables: { refreshToken: secret } }]))
    await count(
      postJson(graphqlUrl, { query: refreshMutation, variables: { refreshToken: secret, pad: "z".repeat(70_000) } })
    )
    await count(
      fetch(graphqlUrl, {
        method: "POST",
        headers: { "content-type": "text/plain" },
        body: JSON.stringify({ query: refreshMutation, variables: { refreshToken: secret } })
      })
    )
    await count(fetch(`${graphqlUrl.replace("/graphql", "")}/refresh/${secret}`))
    await count(fetch(`${graphqlUrl.replace("/graphql", "")}/metrics`))

    // A client that gives up mid-refresh.
    sandbox.faults.inject({ type: "latency", ms: 500 })
    const aborted = mint()
    remember(aborted)
    await count(
      fetch(graphqlUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: refreshMutation, variables: { refreshToken: aborted } }),
        signal: AbortSignal.timeout(100)
      }).catch(() => undefined)
    )
    await new Promise((resolve) => setTimeout(resolve, 600))

    gateway.child.kill("SIGTERM")
    expect((await gateway.exited).code).toBe(0)
    const output = gateway.stdout() + gateway.stderr()

    for (const value of secrets) {
      for (let start = 0; start + 8 <= value.length; start++) {
        const piece = value.slice(start, start + 8)
        if (output.includes(piece)) throw new Error(`the logs contain "${piece}", a piece of a token`)
      }
    }
    expect(output).not.toContain("variable-value-that-must-not-be-logged")
    expect(output).not.toMatch(/variables/i)

    const lines = output.split("\n").filter((line) => line.startsWith("{"))
    const entries = lines.map((line) => JSON.parse(line))
    const requestLines = entries.filter((entry) => entry.msg === "request")
    expect(requestLines).toHaveLength(requests)
    for (const entry of requestLines) {
      expect(Object.keys(entry).sort()).toEqual(
        ["durationMs", "level", "method", "msg", "outcome", "path", "requestId", "status", "time"].sort()
      )
    }
    const outcomes = new Set(requestLines.map((entry) => entry.outcome))
    for (const outcome of [
      "success",
      "reused",
      "coalesced",
      "expired",
      "invalid",
      "unavailable",
      "upstream_rate_limited",
      "bad_response",
      "bad_input",
      "refused",
      "aborted"
    ]) {
      expect(outcomes, outcome).toContain(outcome)
    }
    expect(requestLines.map((entry) => entry.path)).toContain("(unmatched)")
    // The client that went away is not a failure of the gateway: no error line.
    expect(entries.filter((entry) => entry.level === "error")).toEqual([])
  })
})
