import { readFile } from "node:fs/promises"
import { fileURLToPath } from "node:url"
import type { Gateway } from "@ddn/gateway"
import type { SandboxServer } from "@ddn/sandbox"
import ts from "typescript"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { refresh } from "../../apps/gateway/examples/client.js"
import { startGateway, startSandbox } from "../gateway/support.js"

const example = fileURLToPath(new URL("../../apps/gateway/examples/client.ts", import.meta.url))
const readmes = ["../../README.md", "../../apps/gateway/README.md"].map((path) =>
  fileURLToPath(new URL(path, import.meta.url))
)

let sandbox: SandboxServer.RunningSandbox
let gateway: Gateway.Gateway

beforeAll(async () => {
  sandbox = await startSandbox()
  // One attempt per refresh, so an injected 503 is the answer rather than a retry.
  gateway = await startGateway(sandbox.url, { upstream: { maxAttempts: 1 } })
})

afterAll(async () => {
  await gateway?.close()
  await sandbox?.stop()
})

/** The README's GraphQL client example (apps/gateway/examples/client.ts). */
describe("the README's GraphQL client example", () => {
  it("is the code both READMEs show, verbatim", async () => {
    const code = (await readFile(example, "utf8")).trim()
    for (const readme of readmes) expect(await readFile(readme, "utf8"), readme).toContain(code)
  })

  it("compiles strictly against the built @ddn/gateway/client types, as a consumer's code would", () => {
    const program = ts.createProgram([example], {
      target: ts.ScriptTarget.ES2022,
      lib: ["lib.es2022.d.ts"],
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      types: ["node"],
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      noImplicitReturns: true,
      noFallthroughCasesInSwitch: true,
      verbatimModuleSyntax: true,
      noEmit: true
    })
    const diagnostics = ts.getPreEmitDiagnostics(program)
    expect(diagnostics.map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"))).toEqual([])
    // It resolved the package's published types, not the sources.
    const client = program.getSourceFiles().find((file) => file.fileName.includes("client/index"))
    expect(client?.fileName).toMatch(/apps\/gateway\/dist\/client\/index\.d\.ts$/)
  }, 60_000)

  it("refreshed: a TokenPair", async () => {
    const outcome = await refresh(gateway.graphqlUrl, sandbox.authority.mintSession("client").refreshToken)
    expect(outcome.kind).toBe("refreshed")
    if (outcome.kind !== "refreshed") return
    expect(outcome.pair).toMatchObject({ __typename: "TokenPair", tokenType: "Bearer", expiresIn: 3600 })
    expect(Date.parse(outcome.pair.expiresAt)).toBeGreaterThan(Date.now())
  })

  it("signIn: DDN rejects the token (401 → EXPIRED, 400 → INVALID), or it is malformed (BAD_USER_INPUT)", async () => {
    expect(await refresh(gateway.graphqlUrl, "never-issued")).toEqual({ kind: "signIn", reason: "EXPIRED" })
    sandbox.faults.inject({ type: "status", status: 400 })
    expect(await refresh(gateway.graphqlUrl, sandbox.authority.mintSession().refreshToken)).toEqual({
      kind: "signIn",
      reason: "INVALID"
    })
    expect(await refresh(gateway.graphqlUrl, "")).toEqual({ kind: "signIn", reason: "MALFORMED" })
  })

  it("retry: UPSTREAM_UNAVAILABLE, RATE_LIMITED with its retryAfterSeconds, and an unreachable gateway", async () => {
    sandbox.faults.inject({ type: "status", status: 503 })
    expect(await refresh(gateway.graphqlUrl, sandbox.authority.mintSession().refreshToken)).toEqual({
      kind: "retry",
      afterSeconds: 2
    })
    sandbox.faults.inject({ type: "status", status: 429, retryAfter: 120 })
    expect(await refresh(gateway.graphqlUrl, sandbox.authority.mintSession().refreshToken)).toEqual({
      kind: "retry",
      afterSeconds: 120
    })
    expect(await refresh("http://127.0.0.1:1/graphql", "any")).toEqual({ kind: "retry", afterSeconds: 5 })
  })

  it("failed: an answer that is not the gateway's", async () => {
    expect(await refresh(`${gateway.url}/nowhere`, "any")).toEqual({ kind: "failed", code: "HTTP 404" })
  })
})
