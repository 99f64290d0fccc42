/**
 * A struggling DDN, end to end: a gateway in this process in front of a sandbox on loopback, whose
 * outages, 429s and hung requests are the sandbox's own. The circuit breaker's open period is cut to
 * 1 s here so the tests stay short (its thresholds are the defaults: half of 20 calls in 10 s).
 */

import { setTimeout as sleep } from "node:timers/promises"
import { DdnAuthClient } from "@ddn/auth"
import type { Gateway } from "@ddn/gateway"
import type { SandboxServer } from "@ddn/sandbox"
import * as Duration from "effect/Duration"
import { afterEach, describe, expect, it } from "vitest"
import { postJson, refreshMutation, refresh as refreshVia, startGateway, startSandbox } from "./support.js"

const sandboxes: Array<SandboxServer.RunningSandbox> = []
const gateways: Array<Gateway.Gateway> = []

afterEach(async () => {
  await Promise.all(gateways.splice(0).map((gateway) => gateway.close()))
  await Promise.all(sandboxes.splice(0).map((sandbox) => sandbox.stop()))
})

const setUp = async (upstream: Partial<DdnAuthClient.Policy> = {}) => {
  const sandbox = await startSandbox()
  sandboxes.push(sandbox)
  const gateway = await startGateway(sandbox.url, {
    upstream: { ...DdnAuthClient.defaults, circuitBreaker: { openFor: "1 second" }, ...upstream },
    shutdownGrace: Duration.zero
  })
  gateways.push(gateway)
  const calls = () => sandbox.stats().refreshRequests
  const refresh = () =>
    postJson(gateway.graphqlUrl, {
      query: refreshMutation,
      variables: { refreshToken: sandbox.authority.mintSession().refreshToken }
    })
  /** The value of an unlabelled gauge, or of a counter's series with `label`. */
  const metric = async (name: string, label = "") => {
    const text = await (await fetch(gateway.metricsUrl!)).text()
    const line = text.split("\n").find((candidate) => candidate.startsWith(`${name}${label} `))
    return line === undefined ? Number.NaN : Number(line.split(" ")[1])
  }
  /** Polls `check` every 20 ms until it holds (the test's own timeout bounds the wait). */
  const until = async (check: () => boolean | Promise<boolean>) => {
    while (!(await check())) await sleep(20)
  }
  return { sandbox, gateway, calls, refresh, metric, until }
}

const codeOf = (body: { errors?: ReadonlyArray<{ extensions?: Record<string, unknown> }> }) =>
  body.errors?.[0]?.extensions

describe("a struggling DDN", () => {
  it("an outage opens the breaker: refreshes fail fast with UPSTREAM_UNAVAILABLE, DDN's calls stop; one probe recovers", async () => {
    const { sandbox, gateway, calls, refresh, metric, until } = await setUp()
    sandbox.faults.startOutage({ fault: { type: "status", status: 503 } })

    // 5 refreshes of 4 attempts each: 20 failed calls, enough to open the breaker.
    const first = await Promise.all(Array.from({ length: 5 }, () => refresh()))
    for (const { body } of first) expect(codeOf(body)).toMatchObject({ code: "UPSTREAM_UNAVAILABLE", retryable: true })
    expect(calls()).toBe(20)
    expect(await metric("ddn_upstream_circuit_state")).toBe(2)

    const refusedBefore = await metric("ddn_upstream_refused_total", '{reason="open"}')
    const fast = await Promise.all(Array.from({ length: 10 }, () => refresh()))
    for (const { status, body } of fast) {
      expect(status).toBe(200)
      expect(codeOf(body)).toMatchObject({ code: "UPSTREAM_UNAVAILABLE", retryable: true })
    }
    expect(calls()).toBe(20)
    expect((await metric("ddn_upstream_refused_total", '{reason="open"}')) - refusedBefore).toBe(10)

    const ready = await fetch(`${gateway.url}/readyz`)
    expect((await ready.json()).upstream).toMatchObject({ circuit: "open", inFlight: 0 })

    // DDN is back; the breaker goes half-open after its open period, and one probe closes it.
    sandbox.faults.endOutage()
    await until(async () => (await metric("ddn_upstream_circuit_state")) === 1)
    const beforeProbe = calls()
    sandbox.faults.inject({ type: "latency", ms: 300 })
    const probing = await Promise.all(Array.from({ length: 3 }, () => refresh()))
    expect(calls() - beforeProbe).toBe(1)
    expect(probing.filter(({ body }) => body.data?.refreshToken?.__typename === "TokenPair")).toHaveLength(1)
    expect(probing.filter(({ body }) => codeOf(body)?.code === "UPSTREAM_UNAVAILABLE")).toHaveLength(2)
    expect(await metric("ddn_upstream_circuit_state")).toBe(0)
    expect((await refresh()).body.data.refreshToken.__typename).toBe("TokenPair")
    expect(calls() - beforeProbe).toBe(2)
  })

  it("400s and 401s do not open the breaker", async () => {
    const { sandbox, gateway, calls, metric } = await setUp()
    for (let i = 0; i < 30; i++) {
      const { body } = await postJson(gateway.graphqlUrl, {
        query: refreshMutation,
        variables: { refreshToken: `spent-or-unknown-${i}` }
      })
      expect(body.data.refreshToken.__typename).toBe("RefreshTokenRejected")
    }
    expect(calls()).toBe(30)
    expect(await metric("ddn_upstream_circuit_state")).toBe(0)
    expect(sandbox.stats().granted).toBe(0)
  })

  it("DDN's 429 with Retry-After pauses every call: refreshes in the pause wait it out without calling DDN", async () => {
    const { sandbox, calls, refresh, metric, until } = await setUp()
    sandbox.faults.inject({ type: "status", status: 429, retryAfter: 2 })
    const first = refresh()
    await until(async () => (await metric("ddn_upstream_paused_seconds")) > 0)
    expect(calls()).toBe(1)
    const waiting = Array.from({ length: 5 }, () => refresh())
    await sleep(500)
    expect(calls()).toBe(1)
    const answers = await Promise.all([first, ...waiting])
    for (const { body } of answers) expect(body.data.refreshToken.__typename).toBe("TokenPair")
    expect(calls()).toBe(7)
  })

  it("a pause beyond the deadline: RATE_LIMITED with the seconds left, one call to DDN, /readyz says until when", async () => {
    const { sandbox, gateway, calls, refresh, metric } = await setUp()
    sandbox.faults.inject({ type: "status", status: 429, retryAfter: 60 })
    const first = await refresh()
    expect(codeOf(first.body)).toMatchObject({ code: "RATE_LIMITED", retryAfterSeconds: 60 })
    const pausedBefore = await metric("ddn_upstream_refused_total", '{reason="paused"}')
    const later = await Promise.all(Array.from({ length: 5 }, () => refresh()))
    for (const { body } of later) {
      const extensions = codeOf(body)
      expect(extensions?.code).toBe("RATE_LIMITED")
      expect(extensions?.retryAfterSeconds).toBeGreaterThanOrEqual(58)
      expect(extensions?.retryAfterSeconds).toBeLessThanOrEqual(60)
    }
    expect(calls()).toBe(1)
    expect((await metric("ddn_upstream_refused_total", '{reason="paused"}')) - pausedBefore).toBe(5)
    const { upstream } = await (await fetch(`${gateway.url}/readyz`)).json()
    expect(upstream.circuit).toBe("closed")
    expect(Date.parse(upstream.pausedUntil)).toBeGreaterThan(Date.now() + 55_000)
    expect(upstream.pausedForSeconds).toBeGreaterThanOrEqual(55)
  })

  it("DDN hanging: calls in flight stop at DDN_MAX_IN_FLIGHT, the excess is refused at once, and so are the sockets", async () => {
    const { sandbox, calls, refresh, metric, until } = await setUp({ maxInFlight: 4, attemptTimeout: "10 seconds" })
    sandbox.faults.startOutage({ fault: { type: "hang" } })
    const abort = new AbortController()
    const hung = Array.from({ length: 4 }, () =>
      refreshVia(gateways[0]!.graphqlUrl, sandbox.authority.mintSession().refreshToken, { signal: abort.signal }).catch(
        () => undefined
      )
    )
    await until(() => calls() === 4)
    expect(await metric("ddn_upstream_in_flight")).toBe(4)

    const refusedBefore = await metric("ddn_upstream_refused_total", '{reason="in_flight"}')
    const excess = await Promise.all(Array.from({ length: 20 }, () => refresh()))
    for (const { body } of excess) expect(codeOf(body)).toMatchObject({ code: "UPSTREAM_UNAVAILABLE", retryable: true })
    expect(calls()).toBe(4)
    expect((await metric("ddn_upstream_refused_total", '{reason="in_flight"}')) - refusedBefore).toBe(20)
    const { connections } = sandbox.stats()
    expect(connections.open).toBeLessThanOrEqual(4)
    expect(connections.peak).toBeLessThanOrEqual(4)

    abort.abort()
    await sandbox.stop()
    await Promise.all(hung)
  })
})
