import { readFile, stat } from "node:fs/promises"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import { main } from "../../packages/auth/examples/session.js"
import { sandboxAndDirectory } from "../support/Scratch.js"

/** Runs `packages/auth/examples/session.ts` against the sandbox, so the example cannot rot. */
describe("examples/session.ts", () => {
  const scratch = sandboxAndDirectory("ddn-example-")

  const run = (env: Record<string, string>) =>
    Effect.gen(function* () {
      const lines: Array<string> = []
      const capture = Logger.replace(
        Logger.defaultLogger,
        Logger.make(({ message }) => lines.push(String(message)))
      )
      yield* main.pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
        Effect.provide(capture)
      )
      return lines
    })

  it.live("signs in from DDN_REFRESH_TOKEN, calls the protected endpoint twice, and carries on from the file", () =>
    Effect.gen(function* () {
      const { sandbox, directory } = scratch
      const signIn = sandbox.authority.mintSession("example-user")
      const sessionFile = join(directory, "ddn-session.json")
      const granted = sandbox.stats().granted

      const first = yield* run({
        DDN_API_URL: sandbox.url,
        DDN_SESSION_FILE: sessionFile,
        DDN_REFRESH_TOKEN: signIn.refreshToken
      })
      expect(first).toContain("call 1: signed in as example-user")
      expect(first).toContain("call 2: signed in as example-user")
      expect(sandbox.stats().granted).toBe(granted + 1)
      const saved = JSON.parse(yield* Effect.promise(() => readFile(sessionFile, "utf8")))
      expect(saved.session.refreshToken).not.toBe(signIn.refreshToken)
      expect((yield* Effect.promise(() => stat(sessionFile))).mode & 0o777).toBe(0o600)

      // A second run needs no sign-in: the file's access token is still valid, so no refresh either.
      const second = yield* run({ DDN_API_URL: sandbox.url, DDN_SESSION_FILE: sessionFile })
      expect(second).toContain("call 2: signed in as example-user")
      expect(sandbox.stats().granted).toBe(granted + 1)

      const everything = [...first, ...second].join("\n")
      expect(everything).not.toContain(signIn.refreshToken)
      expect(everything).not.toContain(saved.session.refreshToken)
      expect(everything).not.toContain(saved.session.accessToken)
    })
  )
})
