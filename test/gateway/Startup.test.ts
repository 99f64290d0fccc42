import { createServer } from "node:net"
import type { SandboxServer } from "@ddn/sandbox"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { killAll, listeningUrl, postJson, refresh, refusalLine, spawnGateway, startSandbox } from "./support.js"

let sandbox: SandboxServer.RunningSandbox

beforeAll(async () => {
  sandbox = await startSandbox()
})

afterAll(async () => {
  await killAll()
  await sandbox?.stop()
})

// Each test runs its own process; running them side by side keeps the file fast.
describe.concurrent("node dist/main.js", () => {
  it("runs in sandbox mode without DDN_API_URL: prints the sandbox, a demo token and GraphiQL, and refreshes it", async () => {
    const gateway = spawnGateway({})
    const url = await listeningUrl(gateway)
    const output = gateway.stdout()
    expect(output).toMatch(/^DDN sandbox \(embedded\): http:\/\/127\.0\.0\.1:\d+$/m)
    expect(output).toMatch(/^GraphiQL: http:\/\/127\.0\.0\.1:\d+\/graphql$/m)
    const demoToken = /^Demo refresh token: (\S+)$/m.exec(output)?.[1]
    expect(demoToken).toBeDefined()

    const { body } = await refresh(`${url}/graphql`, demoToken!)
    expect(body.data.refreshToken).toMatchObject({ __typename: "TokenPair", tokenType: "Bearer" })
    const page = await fetch(`${url}/graphql`, { headers: { accept: "text/html" } })
    expect(await page.text()).toContain("mutation Refresh")

    gateway.child.kill("SIGTERM")
    expect(await gateway.exited).toEqual({ code: 0, signal: null })
    expect(gateway.stderr()).toBe("")
  })

  it("uses DDN_API_URL in production, with introspection and GraphiQL off", async () => {
    const gateway = spawnGateway({ DDN_API_URL: sandbox.url, NODE_ENV: "production", LOG_LEVEL: "warn" })
    const url = await listeningUrl(gateway)
    expect(gateway.stdout()).toContain(`DDN API: ${sandbox.url}`)
    expect(gateway.stdout()).not.toContain("Demo refresh token")
    expect(gateway.stdout()).toMatch(/^GraphQL endpoint: /m)

    const token = sandbox.authority.mintSession().refreshToken
    expect((await refresh(`${url}/graphql`, token)).body.data.refreshToken.__typename).toBe("TokenPair")
    const introspection = await postJson(`${url}/graphql`, { query: "{ __schema { types { name } } }" })
    expect(introspection.status).toBe(400)
    const page = await fetch(`${url}/graphql`, { headers: { accept: "text/html" } })
    expect(await page.text()).not.toContain("GraphiQL")

    gateway.child.kill("SIGTERM")
    expect((await gateway.exited).code).toBe(0)
  })

  it.each([
    ["PORT", "eighty"],
    ["PORT", "70000"],
    ["HOST", "not a host"],
    ["DDN_API_URL", "ftp://ddn.example.com"],
    ["DDN_API_URL", "::nonsense"],
    ["DDN_REFRESH_TIMEOUT_MS", "0"],
    ["DDN_REFRESH_TIMEOUT_MS", "ten"],
    ["DDN_ATTEMPT_TIMEOUT_MS", "-1"],
    ["DDN_MAX_ATTEMPTS", "0"],
    ["DDN_REUSE_WINDOW_MS", "-1"],
    ["LOG_LEVEL", "loud"],
    ["CORS_ORIGINS", "*"],
    ["PORT", ""],
    ["DDN_REUSE_MAX_ENTRIES", " "],
    ["NODE_ENV", "prod"],
    ["NODE_ENV", ""]
  ])("refuses %s=%s with one line on stderr naming it, exit 1", async (name, value) => {
    const gateway = spawnGateway({ DDN_API_URL: sandbox.url, [name]: value })
    expect(await refusalLine(gateway)).toMatch(new RegExp(`^Invalid ${name}: `))
    expect(gateway.stderr()).not.toMatch(/\n\s+at /)
    expect(gateway.stdout()).toBe("")
  })

  it("requires DDN_API_URL when NODE_ENV=production", async () => {
    const gateway = spawnGateway({ NODE_ENV: "production" })
    expect((await gateway.exited).code).toBe(1)
    expect(gateway.stderr()).toBe(
      "Invalid DDN_API_URL: required when NODE_ENV=production (the sandbox is for development)\n"
    )
  })

  it("fails with one line when the port is taken", async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve))
    const { port } = blocker.address() as { port: number }
    try {
      const gateway = spawnGateway({ PORT: String(port) })
      expect((await gateway.exited).code).toBe(1)
      expect(gateway.stderr()).toBe(`Invalid HOST/PORT: cannot listen on 127.0.0.1:${port} (EADDRINUSE)\n`)
      const metrics = spawnGateway({ METRICS_PORT: String(port) })
      expect((await metrics.exited).code).toBe(1)
      expect(metrics.stderr()).toBe(
        `Invalid METRICS_HOST/METRICS_PORT: cannot listen on 127.0.0.1:${port} (EADDRINUSE)\n`
      )
    } finally {
      blocker.close()
    }
  })
})
