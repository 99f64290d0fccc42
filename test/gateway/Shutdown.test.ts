import type { SandboxServer } from "@ddn/sandbox"
import { afterAll, describe, expect, it } from "vitest"
import { killAll, listeningUrl, refresh, spawnGateway, startSandbox } from "./support.js"

const sandboxes: Array<SandboxServer.RunningSandbox> = []

const ownSandbox = async () => {
  const sandbox = await startSandbox()
  sandboxes.push(sandbox)
  return sandbox
}

afterAll(async () => {
  await killAll()
  await Promise.all(sandboxes.map((sandbox) => sandbox.stop()))
})

const until = async (condition: () => boolean, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting")
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** A gateway on its own sandbox (answers held 1 s) with `count` refreshes it has passed on to DDN. */
const withRefreshesInFlight = async (count: number) => {
  const sandbox = await ownSandbox()
  const gateway = spawnGateway({ DDN_API_URL: sandbox.url, LOG_LEVEL: "info" })
  const graphqlUrl = `${await listeningUrl(gateway)}/graphql`
  sandbox.faults.setRates({ latencyMs: 1_000 })
  const before = sandbox.stats().refreshRequests
  const inFlight = Array.from({ length: count }, () =>
    refresh(graphqlUrl, sandbox.authority.mintSession().refreshToken)
  )
  await until(() => sandbox.stats().refreshRequests - before === count, 5_000)
  return { sandbox, gateway, graphqlUrl, inFlight }
}

describe.concurrent("SIGTERM", () => {
  it("lets 50 in-flight refreshes finish, stops accepting, and exits 0", async () => {
    const { sandbox, gateway, graphqlUrl, inFlight } = await withRefreshesInFlight(50)
    gateway.child.kill("SIGTERM")

    const answers = await Promise.all(inFlight)
    sandbox.faults.reset()
    for (const { status, body } of answers) {
      expect(status).toBe(200)
      expect(body.data.refreshToken.__typename).toBe("TokenPair")
    }
    expect(await gateway.exited).toEqual({ code: 0, signal: null })
    await expect(fetch(graphqlUrl)).rejects.toThrow()

    const logged = gateway
      .stdout()
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line))
    expect(logged.find((entry) => entry.msg === "shutting down")).toMatchObject({ inFlight: 50 })
    expect(logged.filter((entry) => entry.msg === "request" && entry.outcome === "success")).toHaveLength(50)
  })

  it("absorbs a second signal during the drain (Ctrl-C twice): the refreshes in flight still finish, exit 0", async () => {
    const { sandbox, gateway, inFlight } = await withRefreshesInFlight(5)
    gateway.child.kill("SIGTERM")
    await until(() => gateway.stdout().includes('"msg":"shutting down"'), 5_000)
    gateway.child.kill("SIGINT")

    const answers = await Promise.all(inFlight)
    sandbox.faults.reset()
    for (const { body } of answers) expect(body.data.refreshToken.__typename).toBe("TokenPair")
    expect(await gateway.exited).toEqual({ code: 0, signal: null })
  })

  it("cuts off what is still in flight after SHUTDOWN_GRACE_MS and still exits 0", async () => {
    const sandbox = await ownSandbox()
    const gateway = spawnGateway({
      DDN_API_URL: sandbox.url,
      DDN_REFRESH_TIMEOUT_MS: "60000",
      DDN_ATTEMPT_TIMEOUT_MS: "60000",
      SHUTDOWN_GRACE_MS: "1000"
    })
    const graphqlUrl = `${await listeningUrl(gateway)}/graphql`
    sandbox.faults.inject({ type: "hang" })
    const before = sandbox.stats().refreshRequests
    const hung = refresh(graphqlUrl, sandbox.authority.mintSession().refreshToken).then(
      () => "answered",
      () => "cut off"
    )
    await until(() => sandbox.stats().refreshRequests > before, 5_000)
    const signalledAt = Date.now()
    gateway.child.kill("SIGTERM")
    expect(await gateway.exited).toEqual({ code: 0, signal: null })
    expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(1_000)
    expect(Date.now() - signalledAt).toBeLessThan(5_000)
    expect(await hung).toBe("cut off")
  })
})
