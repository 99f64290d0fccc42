import { type ChildProcess, spawn } from "node:child_process"
import { once } from "node:events"
import { createRequire } from "node:module"
import { type AddressInfo, createServer } from "node:net"
import { fileURLToPath } from "node:url"
import { DdnAuthClient } from "@ddn/auth"
import { DdnAuthNode } from "@ddn/auth/node"
import { SandboxServer } from "@ddn/sandbox"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Redacted from "effect/Redacted"

const spec = fileURLToPath(new URL("./ddn-refresh.openapi.yaml", import.meta.url))
/** A port the OS just handed out and released, for a child process that cannot report its own. */
const freePort = async (): Promise<number> => {
  const server = createServer().listen(0, "127.0.0.1")
  await once(server, "listening")
  const { port } = server.address() as AddressInfo
  server.close()
  return port
}

const prismBin = createRequire(import.meta.url).resolve("@stoplight/prism-cli/dist/index.js")

/**
 * Contract tests: Stoplight Prism, a real OpenAPI validator, runs as a validating proxy between the
 * client and the sandbox, with the repository's copy of the vendor's OpenAPI document. With `--errors`
 * an invalid request is answered 422 and an invalid response 500, and every violation is listed in
 * the `sl-violations` header.
 */
describe("contract: the client's requests and the sandbox's responses against the OpenAPI document", () => {
  let sandbox: SandboxServer.RunningSandbox
  let prism: ChildProcess
  let prismUrl: string

  beforeAll(async () => {
    sandbox = await SandboxServer.start()
    const port = await freePort()
    prism = spawn(
      process.execPath,
      [prismBin, "proxy", spec, sandbox.url, "--errors", "--host", "127.0.0.1", "--port", String(port)],
      { stdio: ["ignore", "pipe", "pipe"] }
    )
    let output = ""
    const listening = new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString()
        if (output.includes("Prism is listening")) resolve()
      }
      prism.stdout!.on("data", onData)
      prism.stderr!.on("data", onData)
      prism.once("exit", (code) => reject(new Error(`prism exited with ${code}: ${output}`)))
    })
    await listening
    prismUrl = `http://127.0.0.1:${port}`
  }, 60_000)

  afterAll(async () => {
    if (prism.exitCode === null) {
      prism.kill("SIGKILL")
      await once(prism, "exit")
    }
    await sandbox.stop()
  })

  const refreshThroughPrism = (token: string) =>
    Effect.flatMap(DdnAuthClient.DdnAuthClient, (client) => client.refresh(Redacted.make(token))).pipe(
      Effect.provide(DdnAuthNode.layerOptions({ apiUrl: prismUrl, maxAttempts: 1 })),
      Effect.exit
    )

  const post = (body: unknown) =>
    fetch(`${prismUrl}/gateway/auth/refresh`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(body)
    })

  it.live("the client's request and the sandbox's 200 conform", () =>
    Effect.gen(function* () {
      const exit = yield* refreshThroughPrism(sandbox.authority.mintSession().refreshToken)
      expect(Exit.isSuccess(exit)).toBe(true)
    })
  )

  it.live("the client's requests that end in 401 conform", () =>
    Effect.gen(function* () {
      const exit = yield* refreshThroughPrism("not-a-token-the-sandbox-issued")
      expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" && exit.cause.error._tag).toBe("RefreshTokenExpired")
    })
  )

  it("every documented status of the sandbox conforms: 200, 400, 401", async () => {
    const cases: ReadonlyArray<readonly [unknown, number]> = [
      [{ refreshToken: sandbox.authority.mintSession().refreshToken }, 200],
      [{ refreshToken: "" }, 400],
      [{}, 400],
      [{ refreshToken: "unknown" }, 401]
    ]
    for (const [body, status] of cases) {
      const response = await post(body)
      const violations = response.headers.get("sl-violations")
      expect({ status: response.status, violations }).toEqual({ status, violations: null })
      if (status === 200)
        expect(Object.keys((await response.json()) as object).sort()).toEqual([
          "accessToken",
          "expiresIn",
          "refreshToken",
          "tokenType"
        ])
      else await response.arrayBuffer()
    }
  })

  it("the validator is live: an off-spec request is refused with its violation", async () => {
    const response = await post({ refreshToken: 42 })
    expect(response.status).toBe(422)
    expect(JSON.stringify(await response.json())).toContain("refreshToken")
  })

  it("the validator is live: an off-spec sandbox response is reported", async () => {
    sandbox.faults.inject({ type: "malformed", body: JSON.stringify({ accessToken: 1, refreshToken: 2 }) })
    const response = await post({ refreshToken: sandbox.authority.mintSession().refreshToken })
    expect(response.status).toBe(500)
    expect(response.headers.get("sl-violations")).toContain("accessToken")
  })
})
