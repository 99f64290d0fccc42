/**
 * Helpers for the gateway's end-to-end tests: real sandboxes and gateways on loopback with ephemeral
 * ports, in this process or spawned from `apps/gateway/dist/main.js` (built by `pnpm build`).
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { Gateway, GatewayConfig } from "@ddn/gateway"
import { SandboxServer } from "@ddn/sandbox"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import { afterAll, beforeAll, expect } from "vitest"

/** The built gateway entry the spawned tests run. */
export const mainJs = fileURLToPath(new URL("../../apps/gateway/dist/main.js", import.meta.url))

/** The operation clients send, selecting every field of both results. */
export const refreshMutation = `mutation Refresh($refreshToken: String!) {
  refreshToken(refreshToken: $refreshToken) {
    __typename
    ... on TokenPair { accessToken refreshToken expiresIn tokenType expiresAt }
    ... on RefreshTokenRejected { reason message }
  }
}`

/** A sandbox for one test file. */
export const startSandbox = (options: Parameters<typeof SandboxServer.start>[0] = {}) => SandboxServer.start(options)

/**
 * A gateway in this process in front of `apiUrl`, on 127.0.0.1 with ephemeral ports (public and
 * metrics) and no logs, `/readyz` probing on every call, and no per-client rate limit (every test
 * client is 127.0.0.1; the rate-limit tests turn it on).
 */
export const startGateway = (
  apiUrl: string,
  overrides: Partial<GatewayConfig.GatewayConfig> = {},
  options: Gateway.Options = {}
): Promise<Gateway.Gateway> =>
  Gateway.start(
    GatewayConfig.make({
      host: "127.0.0.1",
      port: 0,
      metricsPort: Option.some(0),
      rateLimitPerMinute: 0,
      logLevel: LogLevel.None,
      ...overrides
    }),
    { apiUrl, readinessInterval: 0, ...options }
  )

/** A GraphQL response as the tests look at it. */
/** A sandbox and an in-process gateway over it, started before the file's tests and stopped after them. */
export const sandboxAndGateway = (): {
  readonly sandbox: SandboxServer.RunningSandbox
  readonly gateway: Gateway.Gateway
} => {
  const started = {} as { sandbox: SandboxServer.RunningSandbox; gateway: Gateway.Gateway }
  beforeAll(async () => {
    started.sandbox = await startSandbox()
    started.gateway = await startGateway(started.sandbox.url)
  })
  afterAll(async () => {
    await started.gateway?.close()
    await started.sandbox?.stop()
  })
  return started
}

export interface GraphqlResponse {
  readonly status: number
  readonly headers: Headers
  // biome-ignore lint/suspicious/noExplicitAny: test assertions walk arbitrary JSON
  readonly body: any
}

/** POSTs a JSON body to `url`. */
export const postJson = async (
  url: string,
  body: unknown,
  headers: Record<string, string> = {}
): Promise<GraphqlResponse> => {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body)
  })
  const text = await response.text()
  return { status: response.status, headers: response.headers, body: text === "" ? undefined : safeJson(text) }
}

const safeJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/** Runs the `refreshToken` mutation. */
export const refresh = (graphqlUrl: string, refreshToken: string, init: { signal?: AbortSignal } = {}) =>
  init.signal === undefined
    ? postJson(graphqlUrl, { query: refreshMutation, variables: { refreshToken } })
    : fetch(graphqlUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: refreshMutation, variables: { refreshToken } }),
        signal: init.signal
      }).then(async (response) => ({ status: response.status, headers: response.headers, body: await response.json() }))

/** A spawned gateway process. */
export interface Spawned {
  readonly child: ChildProcessWithoutNullStreams
  readonly stdout: () => string
  readonly stderr: () => string
  /** Resolves with the exit code and signal. */
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>
}

const children = new Set<ChildProcessWithoutNullStreams>()

/**
 * Runs `node apps/gateway/dist/main.js` with `env` on top of a minimal environment: loopback,
 * ephemeral ports (public and metrics), no per-client rate limit unless `env` sets one.
 */
export const spawnGateway = (env: Record<string, string>): Spawned => {
  const child = spawn(process.execPath, [mainJs], {
    env: {
      PATH: process.env.PATH ?? "",
      HOST: "127.0.0.1",
      PORT: "0",
      METRICS_PORT: "0",
      RATE_LIMIT_PER_MINUTE: "0",
      ...env
    },
    stdio: ["pipe", "pipe", "pipe"]
  })
  children.add(child)
  let stdout = ""
  let stderr = ""
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk
  })
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => {
      children.delete(child)
      resolve({ code, signal })
    })
  )
  return { child, stdout: () => stdout, stderr: () => stderr, exited }
}

/** Waits until the spawned gateway prints `Gateway listening on <url>` and returns the URL (within the tests' 30 s, with room for a busy machine). */
export const listeningUrl = async (spawned: Spawned, timeoutMs = 25_000): Promise<string> => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const match = /^Gateway listening on (http:\/\/\S+)$/m.exec(spawned.stdout())
    if (match !== null) return match[1]!
    if (spawned.child.exitCode !== null) break
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error(`the gateway did not start:\n${spawned.stdout()}\n${spawned.stderr()}`)
}

/**
 * Waits for a spawned gateway that refuses to start, checks that it exits 1 with exactly one line on
 * stderr, and returns that line.
 */
export const refusalLine = async (spawned: Spawned): Promise<string> => {
  expect(await spawned.exited).toEqual({ code: 1, signal: null })
  const lines = spawned
    .stderr()
    .split("\n")
    .filter((line) => line !== "")
  expect(lines).toHaveLength(1)
  return lines[0]!
}

/** Kills every spawned gateway still running (for `afterAll`). */
export const killAll = async (): Promise<void> => {
  const running = [...children]
  await Promise.all(
    running.map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once("exit", () => resolve())
          child.kill("SIGKILL")
        })
    )
  )
}
