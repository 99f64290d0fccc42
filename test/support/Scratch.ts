/**
 * Scratch directories for tests that write files (session files, examples run as a user would):
 * one for a whole test file next to its sandbox, or one for a single step.
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { SandboxServer } from "@ddn/sandbox"
import { afterAll, beforeAll } from "vitest"

/** Runs `use` in a fresh directory named after `prefix`, removed afterwards whatever happens. */
export const withDirectory = async <A>(prefix: string, use: (directory: string) => Promise<A>): Promise<A> => {
  const directory = await mkdtemp(join(tmpdir(), prefix))
  try {
    return await use(directory)
  } finally {
    await rm(directory, { recursive: true, force: true })
  }
}

/**
 * A sandbox and a scratch directory named after `prefix` for one test file, made before its tests
 * and removed after them.
 */
export const sandboxAndDirectory = (
  prefix: string
): { readonly sandbox: SandboxServer.RunningSandbox; readonly directory: string } => {
  const made = {} as { sandbox: SandboxServer.RunningSandbox; directory: string }
  beforeAll(async () => {
    made.sandbox = await SandboxServer.start()
    made.directory = await mkdtemp(join(tmpdir(), prefix))
  })
  afterAll(async () => {
    await made.sandbox?.stop()
    if (made.directory !== undefined) await rm(made.directory, { recursive: true, force: true })
  })
  return made
}
