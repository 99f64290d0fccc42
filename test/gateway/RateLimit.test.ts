import type { Gateway } from "@ddn/gateway"
import type { SandboxServer } from "@ddn/sandbox"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  killAll,
  listeningUrl,
  postJson,
  refreshMutation,
  spawnGateway,
  startGateway,
  startSandbox
} from "./support.js"

let sandbox: SandboxServer.RunningSandbox
const gateways: Array<Gateway.Gateway> = []

beforeAll(async () => {
  sandbox = await startSandbox()
})

afterAll(async () => {
  await Promise.all(gateways.map((gateway) => gateway.close()))
  await killAll()
  await sandbox?.stop()
})

/** A fresh gateway (fresh buckets) with the per-client limit on. */
const limited = async (perMinute: number, trustProxyHops = 0) => {
  const gateway = await startGateway(sandbox.url, { rateLimitPerMinute: perMinute, trustProxyHops })
  gateways.push(gateway)
  return gateway
}

const mint = () => sandbox.authority.mintSession().refreshToken
const upstreamCalls = () => sandbox.stats().refreshRequests

/** One mutation of `count` refreshes (the first unaliased, the rest aliased), each of a fresh token. */
const refreshes = (graphqlUrl: string, count: number, headers: Record<string, string> = {}) => {
  const fields = Array.from(
    { length: count },
    (_, i) =>
      `${i === 0 ? "" : `r${i}: `}refreshToken(refreshToken: $t${i}) { __typename ... on TokenPair { refreshToken } }`
  )
  const variables = Object.fromEntries(Array.from({ length: count }, (_, i) => [`t${i}`, mint()]))
  const definitions = Array.from({ length: count }, (_, i) => `$t${i}: String!`).join(", ")
  return postJson(graphqlUrl, { query: `mutation(${definitions}) { ${fields.join(" ")} }`, variables }, headers)
}

const one = (graphqlUrl: string, headers: Record<string, string> = {}) =>
  postJson(graphqlUrl, { query: refreshMutation, variables: { refreshToken: mint() } }, headers)

describe("the per-client rate limit (RATE_LIMIT_PER_MINUTE)", () => {
  it("refuses the refresh past the limit: 429, Retry-After, no-store, RATE_LIMITED, and no upstream call", async () => {
    const gateway = await limited(4)
    for (let i = 0; i < 4; i++)
      expect((await one(gateway.graphqlUrl)).body.data.refreshToken.__typename).toBe("TokenPair")

    const before = upstreamCalls()
    const response = await fetch(gateway.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ query: refreshMutation, variables: { refreshToken: mint() } })
    })
    expect(upstreamCalls()).toBe(before)
    expect(response.status).toBe(429)
    // 4 per minute refill one every 15 s.
    expect(response.headers.get("retry-after")).toBe("15")
    expect(response.headers.get("cache-control")).toBe("no-store")
    expect(await response.text()).toBe(
      JSON.stringify({
        errors: [
          {
            message: "Too many refreshes from this client. Retry after 15 s.",
            extensions: { code: "RATE_LIMITED", retryAfterSeconds: 15 }
          }
        ]
      })
    )

    // Queries are not limited.
    expect((await postJson(gateway.graphqlUrl, { query: "{ health }" })).body).toEqual({ data: { health: "ok" } })
  })

  it("counts refreshes, not requests: 1 + 3 aliases take 4, and a request that does not fit takes nothing", async () => {
    const gateway = await limited(6)
    const four = await refreshes(gateway.graphqlUrl, 4)
    expect(Object.values(four.body.data).map((result) => (result as { __typename: string }).__typename)).toEqual(
      Array(4).fill("TokenPair")
    )

    const before = upstreamCalls()
    const refused = await refreshes(gateway.graphqlUrl, 4)
    expect(refused.status).toBe(429)
    expect(refused.body.data).toBeUndefined()
    expect(upstreamCalls()).toBe(before)
    // The 2 left were not spent by the refused request.
    expect((await refreshes(gateway.graphqlUrl, 2)).status).toBe(200)
    expect((await one(gateway.graphqlUrl)).status).toBe(429)
  })

  it("answers with a Retry-After after which the refresh goes through", async () => {
    const gateway = await limited(60)
    let refused = await refreshes(gateway.graphqlUrl, 4)
    for (let i = 0; i < 40 && refused.status === 200; i++) refused = await refreshes(gateway.graphqlUrl, 4)
    expect(refused.status).toBe(429)
    // 60 per minute: one token a second, and the refused request lacked at most 4.
    const wait = Number(refused.headers.get("retry-after"))
    expect(wait).toBeGreaterThanOrEqual(1)
    expect(wait).toBeLessThanOrEqual(4)
    expect(refused.body.errors[0].extensions.retryAfterSeconds).toBe(wait)
    await new Promise((resolve) => setTimeout(resolve, wait * 1000))
    expect((await refreshes(gateway.graphqlUrl, 4)).status).toBe(200)
  })

  it("limits each client apart: the TCP peer, or with TRUST_PROXY_HOPS the address the proxy saw", async () => {
    // No proxy trusted: X-Forwarded-For is ignored, every request here is 127.0.0.1.
    const direct = await limited(4)
    expect((await refreshes(direct.graphqlUrl, 4, { "x-forwarded-for": "198.51.100.1" })).status).toBe(200)
    expect((await one(direct.graphqlUrl, { "x-forwarded-for": "198.51.100.2" })).status).toBe(429)

    const proxied = await limited(4, 1)
    const from = (client: string, spoofed?: string) => ({
      "x-forwarded-for": spoofed === undefined ? client : `${spoofed}, ${client}`
    })
    expect((await refreshes(proxied.graphqlUrl, 4, from("198.51.100.1"))).status).toBe(200)
    expect((await one(proxied.graphqlUrl, from("198.51.100.1"))).status).toBe(429)
    // A client cannot pick its key by sending its own X-Forwarded-For: the proxy appends the real one.
    expect((await one(proxied.graphqlUrl, from("198.51.100.1", "203.0.113.99"))).status).toBe(429)
    // Another client has its own bucket.
    expect((await one(proxied.graphqlUrl, from("198.51.100.2"))).status).toBe(200)
    // The same client over IPv4-mapped IPv6 is the same client; one /64 is one client.
    expect((await one(proxied.graphqlUrl, from("::ffff:198.51.100.1"))).status).toBe(429)
    expect((await refreshes(proxied.graphqlUrl, 4, from("2001:db8:1:2::1"))).status).toBe(200)
    expect((await one(proxied.graphqlUrl, from("2001:db8:1:2:dead:beef:0:1"))).status).toBe(429)
    expect((await one(proxied.graphqlUrl, from("2001:db8:1:3::1"))).status).toBe(200)
  })

  it("logs the refused request as rate_limited, counts its refreshes, and logs no address", async () => {
    const spawned = spawnGateway({
      DDN_API_URL: sandbox.url,
      RATE_LIMIT_PER_MINUTE: "4",
      TRUST_PROXY_HOPS: "1",
      LOG_LEVEL: "debug"
    })
    const url = await listeningUrl(spawned)
    const metricsUrl = /^Metrics: (http:\/\/\S+)$/m.exec(spawned.stdout())![1]!
    const client = { "x-forwarded-for": "198.51.100.77" }
    expect((await refreshes(`${url}/graphql`, 3, client)).status).toBe(200)
    expect((await refreshes(`${url}/graphql`, 2, client)).status).toBe(429)
    const metrics = await (await fetch(metricsUrl)).text()
    expect(metrics).toMatch(/^ddn_gateway_refreshes_total\{outcome="rate_limited"\} 2$/m)
    expect(metrics).toMatch(/^ddn_gateway_refreshes_total\{outcome="success"\} 3$/m)

    spawned.child.kill("SIGTERM")
    expect((await spawned.exited).code).toBe(0)
    const lines = spawned
      .stdout()
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line))
    const requests = lines.filter((line) => line.msg === "request" && line.path === "/graphql")
    expect(requests.map((line) => [line.status, line.outcome])).toEqual([
      [200, "success"],
      [429, "rate_limited"]
    ])
    expect(spawned.stdout() + spawned.stderr()).not.toMatch(/198\.51\.100\.77|127\.0\.0\.1"/)
  })
})
