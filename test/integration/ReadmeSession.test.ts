import { execFile } from "node:child_process"
import { readFile, stat, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { promisify } from "node:util"
import { describe, expect, it } from "vitest"
import { sandboxAndDirectory, withDirectory } from "../support/Scratch.js"

const example = fileURLToPath(new URL("../../packages/auth/examples/readme-session.ts", import.meta.url))
/** `node --import tsx` with tsx resolved from the workspace, since the example runs in a scratch directory. */
const tsx = pathToFileURL(fileURLToPath(new URL("../../node_modules/tsx/dist/loader.mjs", import.meta.url))).href
const nodeArgs = ["--import", tsx, "--conditions=@ddn/source", example]
const readmes = ["../../README.md", "../../packages/auth/README.md"].map((path) =>
  fileURLToPath(new URL(path, import.meta.url))
)

/**
 * The README's TokenSession example, run on its own as a user would (a fresh process, its own
 * directory, only the environment it documents) against the sandbox.
 */
describe("the README's TokenSession example (packages/auth/examples/readme-session.ts)", () => {
  const scratch = sandboxAndDirectory("ddn-readme-session-")

  /** Runs the example in `cwd` (the file's scratch directory unless given) with only `env` and PATH. */
  const run = (env: Record<string, string>, cwd = scratch.directory) =>
    promisify(execFile)(process.execPath, nodeArgs, {
      cwd,
      env: { PATH: process.env.PATH ?? "", ...env },
      timeout: 60_000
    }).then(
      ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
      (error: { code: number; stdout: string; stderr: string }) => ({
        code: error.code,
        output: error.stdout + error.stderr
      })
    )

  it("is the code both READMEs show, verbatim", async () => {
    const code = (await readFile(example, "utf8")).trim()
    for (const readme of readmes) expect(await readFile(readme, "utf8"), readme).toContain(code)
  })

  it("signs in from DDN_REFRESH_TOKEN, writes the documented file, and carries on from it on the next run", async () => {
    const { sandbox, directory } = scratch
    const signIn = sandbox.authority.mintSession("readme-user")
    const first = await run({ DDN_API_URL: sandbox.url, DDN_REFRESH_TOKEN: signIn.refreshToken })
    expect(first.output).toContain('whoami: 200 {"sub":"readme-user"}')
    expect(first.code).toBe(0)

    const file = join(directory, "ddn-session.json")
    const saved = JSON.parse(await readFile(file, "utf8"))
    expect(Object.keys(saved)).toEqual(["version", "session"])
    expect(saved.version).toBe(1)
    expect(Object.keys(saved.session).sort()).toEqual([
      "accessToken",
      "expiresAt",
      "expiresIn",
      "refreshToken",
      "tokenType"
    ])
    expect(saved.session.refreshToken).not.toBe(signIn.refreshToken)
    expect((await stat(file)).mode & 0o777).toBe(0o600)

    // The sign-in's token is spent; the file carries the session (even if the variable is still set).
    const second = await run({ DDN_API_URL: sandbox.url, DDN_REFRESH_TOKEN: signIn.refreshToken })
    expect(second.output).toContain('whoami: 200 {"sub":"readme-user"}')
    const third = await run({ DDN_API_URL: sandbox.url })
    expect(third.code).toBe(0)
    expect(third.output).toContain("whoami: 200")

    for (const output of [first.output, second.output, third.output]) {
      expect(output).not.toContain(signIn.refreshToken)
      expect(output).not.toContain(saved.session.refreshToken)
    }
  }, 120_000)

  it("accepts a hand-written RefreshTokenOnly file as the first session", async () => {
    await withDirectory("ddn-readme-session-", async (handWritten) => {
      const { refreshToken } = scratch.sandbox.authority.mintSession("by-hand")
      await writeFile(
        join(handWritten, "ddn-session.json"),
        JSON.stringify({ version: 1, session: { _tag: "RefreshTokenOnly", refreshToken } }),
        { mode: 0o600 }
      )
      const { code, output } = await run({ DDN_API_URL: scratch.sandbox.url }, handWritten)
      expect(output).toContain('whoami: 200 {"sub":"by-hand"}')
      expect(code).toBe(0)
    })
  }, 60_000)

  it("without a sign-in or a file, fails with NoSession and writes nothing", async () => {
    await withDirectory("ddn-readme-session-", async (empty) => {
      const result = await run({ DDN_API_URL: scratch.sandbox.url }, empty)
      expect(result.code).toBe(1)
      expect(result.output).toContain("NoSession")
      await expect(stat(join(empty, "ddn-session.json"))).rejects.toThrow()
    })
  }, 60_000)
})
