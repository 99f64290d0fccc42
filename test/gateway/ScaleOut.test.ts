import { execFileSync } from "node:child_process"
import type { SandboxServer } from "@ddn/sandbox"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { type RedisServer, startRedis } from "../support/RedisServer.js"
import { killAll, listeningUrl, refresh, refusalLine, type Spawned, spawnGateway, startSandbox } from "./support.js"

/**
 * Several gateway processes, one Redis, one DDN sandbox: single-flight and the reuse window hold
 * across instances, survive the death of an instance, and degrade to local coordination while
 * Redis is away.
 */
describe("gateway instances coordinated through Redis", () => {
  let redis: RedisServer
  let sandbox: SandboxServer.RunningSandbox
  const secret = "0123456789abcdef0123456789abcdef-shared"

  beforeAll(async () => {
    ;[redis, sandbox] = await Promise.all([startRedis(), startSandbox()])
  })
  afterEach(killAll)
  afterAll(async () => {
    await killAll()
    await Promise.all([redis?.stop(), sandbox?.stop()])
  })

  const upstreamCalls = () => sandbox.stats().refreshRequests

  /** A `redis-cli` command against the test's Redis, its answer as lines. */
  const redisCli = (...args: Array<string>) =>
    execFileSync("redis-cli", ["-p", String(redis.port), ...args], { encoding: "utf8" })
      .split("\n")
      .filter((line) => line !== "")
  const flushRedis = () => redisCli("flushall")

  const instance = async (env: Record<string, string> = {}) => {
    const spawned = spawnGateway({
      DDN_API_URL: sandbox.url,
      REDIS_URL: redis.url,
      DDN_COORDINATION_SECRET: secret,
      LOG_LEVEL: "warn",
      ...env
    })
    const url = await listeningUrl(spawned)
    return { spawned, url, graphqlUrl: `${url}/graphql` }
  }

  const readiness = async (url: string) => (await (await fetch(`${url}/readyz`)).json()) as Record<string, unknown>

  const until = async (check: () => Promise<boolean>, timeoutMs = 8_000) => {
    const deadline = Date.now() + timeoutMs
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error("condition not reached in time")
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  const coordinatedBy = (url: string, mode: string) => until(async () => (await readiness(url)).coordination === mode)

  const pairOf = (answer: { readonly body: { readonly data: { readonly refreshToken: unknown } } }) =>
    answer.body.data.refreshToken as { readonly __typename: string; readonly refreshToken: string }

  const logLines = (spawned: Spawned) =>
    spawned
      .stdout()
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>)

  it("20 concurrent mutations of one token over two instances: one upstream call, 20 identical pairs; the other instance reuses it", async () => {
    const [a, b] = await Promise.all([instance(), instance()])
    await Promise.all([coordinatedBy(a.url, "redis"), coordinatedBy(b.url, "redis")])
    const token = sandbox.authority.mintSession().refreshToken
    sandbox.faults.inject({ type: "latency", ms: 300 })
    const before = upstreamCalls()
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => refresh(i % 2 === 0 ? a.graphqlUrl : b.graphqlUrl, token))
    )
    expect(upstreamCalls() - before).toBe(1)
    const pairs = answers.map(pairOf)
    expect(pairs.every((pair) => pair.__typename === "TokenPair")).toBe(true)
    expect(new Set(pairs.map((pair) => JSON.stringify(pair))).size).toBe(1)

    const again = pairOf(await refresh(b.graphqlUrl, token))
    expect(JSON.stringify(again)).toBe(JSON.stringify(pairs[0]))
    expect(upstreamCalls() - before).toBe(1)
  })

  it("the instance that refreshed is SIGKILLed: the other still answers the resubmission from the window", async () => {
    const [a, b] = await Promise.all([instance(), instance()])
    await Promise.all([coordinatedBy(a.url, "redis"), coordinatedBy(b.url, "redis")])
    const token = sandbox.authority.mintSession().refreshToken
    const first = pairOf(await refresh(a.graphqlUrl, token))
    a.spawned.child.kill("SIGKILL")
    await a.spawned.exited
    const before = upstreamCalls()
    const again = pairOf(await refresh(b.graphqlUrl, token))
    expect(again).toEqual(first)
    expect(upstreamCalls()).toBe(before)
    // The pair handed out is live: it refreshes on.
    expect(pairOf(await refresh(b.graphqlUrl, first.refreshToken)).__typename).toBe("TokenPair")
  })

  it("Redis SIGKILLed mid-run: both keep serving and say degraded; Redis back: coordination resumes by itself", async () => {
    const [a, b] = await Promise.all([instance(), instance()])
    await Promise.all([coordinatedBy(a.url, "redis"), coordinatedBy(b.url, "redis")])
    const traffic = (async () => {
      const answers = []
      for (let i = 0; i < 30; i++) {
        const token = sandbox.authority.mintSession().refreshToken
        answers.push(pairOf(await refresh(i % 2 === 0 ? a.graphqlUrl : b.graphqlUrl, token)))
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      return answers
    })()
    await new Promise((resolve) => setTimeout(resolve, 150))
    await redis.kill()
    await Promise.all([coordinatedBy(a.url, "degraded"), coordinatedBy(b.url, "degraded")])
    const readyWhileDegraded = await fetch(`${a.url}/readyz`)
    expect(readyWhileDegraded.status).toBe(200)
    expect(await readyWhileDegraded.json()).toMatchObject({ status: "ready", coordination: "degraded" })
    const local = pairOf(await refresh(a.graphqlUrl, sandbox.authority.mintSession().refreshToken))
    expect(local.__typename).toBe("TokenPair")
    expect((await traffic).every((pair) => pair.__typename === "TokenPair")).toBe(true)

    await redis.start()
    await Promise.all([coordinatedBy(a.url, "redis"), coordinatedBy(b.url, "redis")])
    const token = sandbox.authority.mintSession().refreshToken
    const first = pairOf(await refresh(a.graphqlUrl, token))
    const before = upstreamCalls()
    expect(pairOf(await refresh(b.graphqlUrl, token))).toEqual(first)
    expect(upstreamCalls()).toBe(before)

    for (const spawned of [a.spawned, b.spawned]) {
      const lines = logLines(spawned)
      expect(lines.some((line) => line.level === "warn" && String(line.msg).startsWith("Redis is unreachable"))).toBe(
        true
      )
      expect(JSON.stringify(lines)).not.toContain(String(redis.port))
    }
  })

  it("the per-client limit holds across instances: 4 per minute over two instances refuses the 5th, keys in Redis say nothing", async () => {
    await flushRedis()
    const [a, b] = await Promise.all([
      instance({ RATE_LIMIT_PER_MINUTE: "4" }),
      instance({ RATE_LIMIT_PER_MINUTE: "4" })
    ])
    await Promise.all([coordinatedBy(a.url, "redis"), coordinatedBy(b.url, "redis")])
    const before = upstreamCalls()
    for (let i = 0; i < 4; i++) {
      const answer = await refresh(
        i % 2 === 0 ? a.graphqlUrl : b.graphqlUrl,
        sandbox.authority.mintSession().refreshToken
      )
      expect(pairOf(answer).__typename).toBe("TokenPair")
    }
    for (const url of [a.graphqlUrl, b.graphqlUrl]) {
      const refused = await refresh(url, sandbox.authority.mintSession().refreshToken)
      expect(refused.status).toBe(429)
      expect(refused.headers.get("cache-control")).toBe("no-store")
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1)
      expect(refused.body.errors[0].extensions).toMatchObject({ code: "RATE_LIMITED" })
    }
    expect(upstreamCalls() - before).toBe(4)

    const keys = redisCli("--scan", "--pattern", "ddn:ratelimit:*")
    expect(keys).toHaveLength(1)
    expect(keys[0]).not.toContain("127.0.0.1")
    expect(Number(redisCli("pttl", keys[0]!)[0])).toBeGreaterThan(0)
  })

  it("DDN_COORDINATION_LEASE_MS sets the lease a holder takes and renews while DDN hangs", async () => {
    await flushRedis()
    const a = await instance({ DDN_COORDINATION_LEASE_MS: "20000" })
    await coordinatedBy(a.url, "redis")
    sandbox.faults.inject({ type: "hang" })
    const controller = new AbortController()
    const answer = refresh(a.graphqlUrl, sandbox.authority.mintSession().refreshToken, {
      signal: controller.signal
    }).catch(() => undefined)
    try {
      await until(async () => redisCli("--scan", "--pattern", "ddn:coord:*:lease").length === 1)
      const [lease] = redisCli("--scan", "--pattern", "ddn:coord:*:lease")
      // The default lease is 3 s; this one has 20 s, less what has passed since it was taken or renewed.
      expect(Number(redisCli("pttl", lease!)[0])).toBeGreaterThan(10_000)
    } finally {
      controller.abort()
      sandbox.faults.reset()
      await answer
    }
  })

  it("start-up does not wait for Redis: with Redis unreachable the gateway serves, degraded", async () => {
    const a = await instance({ REDIS_URL: "redis://127.0.0.1:1" })
    expect(await readiness(a.url)).toMatchObject({ status: "ready", coordination: "degraded" })
    const pair = pairOf(await refresh(a.graphqlUrl, sandbox.authority.mintSession().refreshToken))
    expect(pair.__typename).toBe("TokenPair")
  })

  it("without REDIS_URL the gateway coordinates in memory and says so", async () => {
    const spawned = spawnGateway({ DDN_API_URL: sandbox.url })
    const url = await listeningUrl(spawned)
    expect(await readiness(url)).toMatchObject({ status: "ready", coordination: "memory" })
  })

  it.each([
    [{ REDIS_URL: "redis://127.0.0.1:6379" }, /^Missing DDN_COORDINATION_SECRET: required when REDIS_URL is set/],
    [
      { REDIS_URL: "redis://127.0.0.1:6379", DDN_COORDINATION_SECRET: "short" },
      /^Invalid DDN_COORDINATION_SECRET: must be at least 32 characters/
    ],
    [{ REDIS_URL: "http://user:hunter2@127.0.0.1", DDN_COORDINATION_SECRET: secret }, /^Invalid REDIS_URL: /]
  ])("start-up with %o fails with one line naming the variable", async (env, line) => {
    const spawned = spawnGateway({ DDN_API_URL: sandbox.url, ...env })
    expect(await refusalLine(spawned)).toMatch(line)
    expect(spawned.stderr()).not.toContain("hunter2")
    expect(spawned.stderr()).not.toContain("short")
  })
})
