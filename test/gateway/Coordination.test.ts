import type { Gateway } from "@ddn/gateway"
import type { SandboxServer } from "@ddn/sandbox"
import * as Duration from "effect/Duration"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { refresh, startGateway, startSandbox } from "./support.js"

/** Single-flight and the reuse window, end to end: real gateway, real sandbox, real HTTP. */
describe("refresh coordination through the gateway", () => {
  let sandbox: SandboxServer.RunningSandbox
  let gateway: Gateway.Gateway
  let noReuse: Gateway.Gateway
  const reuseWindowMs = 400

  beforeAll(async () => {
    sandbox = await startSandbox()
    gateway = await startGateway(sandbox.url, { coordinator: { reuseWindow: Duration.millis(reuseWindowMs) } })
    noReuse = await startGateway(sandbox.url, { coordinator: { reuseWindow: Duration.zero } })
  })

  afterAll(async () => {
    await gateway?.close()
    await noReuse?.close()
    await sandbox?.stop()
  })

  const upstreamCalls = () => sandbox.stats().refreshRequests

  /** `count` concurrent mutations of one fresh token while DDN holds its answer 200 ms; the answers and DDN's calls. */
  const burst = async (graphqlUrl: string, count: number) => {
    const token = sandbox.authority.mintSession().refreshToken
    sandbox.faults.inject({ type: "latency", ms: 200 })
    const before = upstreamCalls()
    const answers = await Promise.all(Array.from({ length: count }, () => refresh(graphqlUrl, token)))
    return { token, answers, calls: upstreamCalls() - before }
  }

  it("20 concurrent mutations with one token → one upstream call and 20 identical pairs", async () => {
    const { answers, calls } = await burst(gateway.graphqlUrl, 20)
    expect(calls).toBe(1)
    const pairs = answers.map((answer) => answer.body.data.refreshToken)
    expect(pairs.every((pair) => pair.__typename === "TokenPair")).toBe(true)
    expect(new Set(pairs.map((pair) => JSON.stringify(pair))).size).toBe(1)
  })

  it("a resubmission within the window gets the same pair with no call; after it, DDN answers (EXPIRED)", async () => {
    const token = sandbox.authority.mintSession().refreshToken
    const first = (await refresh(gateway.graphqlUrl, token)).body.data.refreshToken
    const before = upstreamCalls()
    const again = (await refresh(gateway.graphqlUrl, token)).body.data.refreshToken
    expect(again).toEqual(first)
    expect(upstreamCalls()).toBe(before)

    await new Promise((resolve) => setTimeout(resolve, reuseWindowMs + 100))
    const late = (await refresh(gateway.graphqlUrl, token)).body.data.refreshToken
    expect(upstreamCalls()).toBe(before + 1)
    expect(late).toMatchObject({ __typename: "RefreshTokenRejected", reason: "EXPIRED" })
  })

  it("the pair handed out in the window is the live one: it refreshes on", async () => {
    const token = sandbox.authority.mintSession().refreshToken
    await refresh(gateway.graphqlUrl, token)
    const replayed = (await refresh(gateway.graphqlUrl, token)).body.data.refreshToken
    const next = (await refresh(gateway.graphqlUrl, replayed.refreshToken)).body.data.refreshToken
    expect(next.__typename).toBe("TokenPair")
  })

  it("failures are not kept: a 503 answer is not replayed to the resubmission", async () => {
    const token = sandbox.authority.mintSession().refreshToken
    sandbox.faults.inject({ type: "status", status: 503 }, 4)
    const failed = await refresh(gateway.graphqlUrl, token)
    expect(failed.body.errors[0].extensions.code).toBe("UPSTREAM_UNAVAILABLE")
    const retried = (await refresh(gateway.graphqlUrl, token)).body.data.refreshToken
    expect(retried.__typename).toBe("TokenPair")
  })

  it("DDN_REUSE_WINDOW_MS=0: concurrent calls still share one upstream call, a resubmission is EXPIRED", async () => {
    const { token, answers, calls } = await burst(noReuse.graphqlUrl, 5)
    expect(calls).toBe(1)
    expect(answers.every((answer) => answer.body.data.refreshToken.__typename === "TokenPair")).toBe(true)
    const again = (await refresh(noReuse.graphqlUrl, token)).body.data.refreshToken
    expect(again).toMatchObject({ __typename: "RefreshTokenRejected", reason: "EXPIRED" })
  })
})
