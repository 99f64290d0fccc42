import { connect } from "node:net"
import * as Option from "effect/Option"
import { beforeEach, describe, expect, it } from "vitest"
import { refresh, sandboxAndGateway, startGateway, startSandbox } from "./support.js"

const started = sandboxAndGateway()

beforeEach(() => started.sandbox.faults.reset())

const metricValue = (text: string, series: string): number => {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `))
  if (line === undefined) throw new Error(`no series ${series} in:\n${text}`)
  return Number(line.slice(series.length + 1))
}

const scrape = async () => {
  const response = await fetch(started.gateway.metricsUrl!)
  expect(response.status).toBe(200)
  expect(response.headers.get("content-type")).toContain("text/plain")
  return response.text()
}

describe("operations endpoints", () => {
  it("GET /healthz answers 200 while serving", async () => {
    const response = await fetch(`${started.gateway.url}/healthz`)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ status: "ok" })
    expect((await fetch(`${started.gateway.url}/healthz`, { method: "POST" })).status).toBe(405)
  })

  it("GET /readyz answers 200 when the upstream answers, 503 when it fails, hangs or is gone", async () => {
    const own = await startSandbox()
    const probed = await startGateway(own.url)
    try {
      expect((await fetch(`${probed.url}/readyz`)).status).toBe(200)

      own.faults.inject({ type: "status", status: 503 })
      expect((await fetch(`${probed.url}/readyz`)).status).toBe(503)

      own.faults.inject({ type: "hang" })
      const startedAt = Date.now()
      const hung = await fetch(`${probed.url}/readyz`)
      expect(hung.status).toBe(503)
      expect(Date.now() - startedAt).toBeLessThan(3_500)

      await own.stop()
      const gone = await fetch(`${probed.url}/readyz`)
      expect(gone.status).toBe(503)
      expect(await gone.json()).toEqual({
        status: "upstream_unavailable",
        coordination: "memory",
        upstream: { circuit: "closed", inFlight: 0, maxInFlight: 256 }
      })
    } finally {
      await probed.close()
      await own.stop()
    }
  })

  it("GET /metrics exposes refreshes by outcome, the latency histogram and the core's upstream counters", async () => {
    const before = await scrape()
    const token = started.sandbox.authority.mintSession().refreshToken
    await refresh(started.gateway.graphqlUrl, token)
    await refresh(started.gateway.graphqlUrl, token) // resubmitted within the reuse window: no upstream call
    const spent = started.sandbox.authority.mintSession().refreshToken
    started.sandbox.authority.refresh(spent)
    await refresh(started.gateway.graphqlUrl, spent)
    await refresh(started.gateway.graphqlUrl, "")
    started.sandbox.faults.inject({ type: "status", status: 503 })
    await refresh(started.gateway.graphqlUrl, started.sandbox.authority.mintSession().refreshToken)
    const after = await scrape()

    const delta = (series: string) => metricValue(after, series) - metricValue(before, series)
    expect(delta('ddn_gateway_refreshes_total{outcome="success"}')).toBe(2)
    expect(delta('ddn_gateway_refreshes_total{outcome="reused"}')).toBe(1)
    expect(delta('ddn_gateway_refreshes_total{outcome="expired"}')).toBe(1)
    expect(delta('ddn_gateway_refreshes_total{outcome="bad_input"}')).toBe(1)
    for (const outcome of ["rate_limited", "upstream_rate_limited", "coalesced", "aborted", "internal"]) {
      expect(metricValue(after, `ddn_gateway_refreshes_total{outcome="${outcome}"}`)).toBe(0)
    }
    expect(delta('ddn_gateway_refresh_duration_seconds_count{outcome="success"}')).toBe(2)
    expect(after).toContain('ddn_gateway_refresh_duration_seconds_bucket{le="0.1",outcome="success"}')
    expect(delta('ddn_upstream_attempts_total{outcome="2xx"}')).toBe(2)
    expect(delta("ddn_refresh_reused_total")).toBe(1)
    expect(delta('ddn_upstream_attempts_total{outcome="4xx"}')).toBe(1)
    expect(delta('ddn_upstream_attempts_total{outcome="5xx"}')).toBe(1)
    expect(delta("ddn_upstream_retries_total")).toBe(1)
    expect(after).toContain("# TYPE ddn_upstream_attempts_total counter")
    expect(after).toContain("# TYPE ddn_gateway_refresh_duration_seconds histogram")
    expect(after).not.toContain(token)
    expect(after).not.toContain(token.slice(0, 8))
  })

  it("counts a refresh whose client went away as aborted, never internal, and coalesced callers apart", async () => {
    const before = await scrape()
    started.sandbox.faults.inject({ type: "latency", ms: 300 })
    const token = started.sandbox.authority.mintSession().refreshToken
    const gone = refresh(started.gateway.graphqlUrl, token, { signal: AbortSignal.timeout(100) }).catch(() => "aborted")
    const joined = refresh(started.gateway.graphqlUrl, token)
    expect(await gone).toBe("aborted")
    expect((await joined).body.data.refreshToken.__typename).toBe("TokenPair")
    await new Promise((resolve) => setTimeout(resolve, 50))
    const after = await scrape()
    const delta = (outcome: string) =>
      metricValue(after, `ddn_gateway_refreshes_total{outcome="${outcome}"}`) -
      metricValue(before, `ddn_gateway_refreshes_total{outcome="${outcome}"}`)
    expect(delta("aborted")).toBe(1)
    expect(delta("internal")).toBe(0)
    // The aborted caller started the upstream call; the other joined it.
    expect(delta("coalesced") + delta("success")).toBe(1)
  })

  it("answers 404 for unknown routes, /metrics included: metrics have their own listener", async () => {
    expect((await fetch(`${started.gateway.url}/nope`)).status).toBe(404)
    expect((await fetch(`${started.gateway.url}/metrics`)).status).toBe(404)
    const metricsUrl = new URL(started.gateway.metricsUrl!)
    expect(metricsUrl.hostname).toBe("127.0.0.1")
    expect(Number(metricsUrl.port)).toBe(started.gateway.metricsPort)
    expect(Number(metricsUrl.port)).not.toBe(started.gateway.port)
    expect((await fetch(new URL("/graphql", metricsUrl))).status).toBe(404)
    expect((await fetch(metricsUrl, { method: "POST" })).status).toBe(405)
  })

  it("serves no metrics with METRICS_PORT=off, and closes the metrics listener on shutdown", async () => {
    const off = await startGateway(started.sandbox.url, { metricsPort: Option.none() })
    expect(off.metricsUrl).toBeUndefined()
    expect(off.metricsPort).toBeUndefined()
    await off.close()

    const own = await startGateway(started.sandbox.url)
    expect((await fetch(own.metricsUrl!)).status).toBe(200)
    await own.close()
    await expect(fetch(own.metricsUrl!)).rejects.toThrow()
  })

  it("GET /readyz probes DDN at most once per 5 s however often it is asked, and answers from that probe", async () => {
    const own = await startSandbox()
    const probed = await startGateway(own.url, {}, { readinessInterval: "5 seconds" })
    try {
      const answers = await Promise.all(Array.from({ length: 200 }, () => fetch(`${probed.url}/readyz`)))
      for (let i = 0; i < 100; i++) answers.push(await fetch(`${probed.url}/readyz`))
      expect(answers.every((answer) => answer.status === 200)).toBe(true)
      expect(own.stats().refreshRequests).toBe(1)
      // DDN going away is seen at the next probe, not before.
      own.faults.inject({ type: "status", status: 503 }, 100)
      expect((await fetch(`${probed.url}/readyz`)).status).toBe(200)
      expect(own.stats().refreshRequests).toBe(1)
    } finally {
      await probed.close()
      await own.stop()
    }
  })

  it("answers /healthz 503 once shutting down, while in-flight requests still finish", async () => {
    const own = await startGateway(started.sandbox.url)
    started.sandbox.faults.inject({ type: "latency", ms: 400 })
    const before = started.sandbox.stats().refreshRequests
    const inFlight = refresh(own.graphqlUrl, started.sandbox.authority.mintSession().refreshToken)
    // Under load the request may not have started yet: shutdown would close its idle connection.
    while (started.sandbox.stats().refreshRequests === before) await new Promise((resolve) => setTimeout(resolve, 5))

    // A connection that has started a request is not idle, so shutdown lets it finish.
    const socket = connect(Number(new URL(own.url).port), "127.0.0.1")
    let received = ""
    socket.setEncoding("utf8").on("data", (chunk: string) => {
      received += chunk
    })
    const socketClosed = new Promise<void>((resolve) => socket.once("close", () => resolve()))
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()))
    socket.write("GET /healthz HTTP/1.1\r\n")
    await new Promise((resolve) => setTimeout(resolve, 100))

    const closing = own.close()
    socket.write("host: localhost\r\n\r\n")
    const answered = await inFlight
    await Promise.all([closing, socketClosed])

    expect(answered.body.data.refreshToken.__typename).toBe("TokenPair")
    expect(received).toMatch(/^HTTP\/1\.1 503 /)
    expect(received).toMatch(/connection: close/i)
    expect(received).toContain('"status":"shutting_down"')
    await expect(fetch(`${own.url}/healthz`)).rejects.toThrow()
  })
})
