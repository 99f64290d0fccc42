/**
 * Debian's chromium driven by playwright-core, for the browser tests: installed by
 * `scripts/ensure-chromium.sh` when missing, launched headless with a fresh profile, and cut off from
 * every host but loopback (each other request is aborted and recorded, so a test can assert that
 * none was attempted).
 */
import { execFile } from "node:child_process"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { type BrowserContext, chromium, type Page } from "playwright-core"

/** Where Debian installs chromium. */
export const executablePath = "/usr/bin/chromium"

const ensureScript = fileURLToPath(new URL("../../scripts/ensure-chromium.sh", import.meta.url))

/** Installs Debian's chromium unless it is there (apt-get; can take a few minutes the first time). */
export const ensureChromium = async (): Promise<void> => {
  await promisify(execFile)("bash", [ensureScript], { timeout: 600_000, maxBuffer: 64 * 1024 * 1024 })
}

/** Chromium's flags: headless, no sandbox (root in CI), and none of its own traffic. */
export const flags = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-default-apps",
  "--disable-extensions",
  // Any name but loopback resolves to nothing, below the request routing as a second fence.
  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"
]

const loopback = (url: URL): boolean =>
  url.hostname === "127.0.0.1" || url.hostname === "localhost" || url.hostname === "[::1]"

/** A running browser with one page. */
export interface Browser {
  readonly context: BrowserContext
  readonly page: Page
  /** URLs of every request to another host than loopback: all were aborted. */
  readonly blocked: ReadonlyArray<string>
  readonly close: () => Promise<void>
}

/** Launches chromium with a fresh profile under the OS temp dir; `close` removes it. */
export const launch = async (viewport = { width: 1440, height: 860 }): Promise<Browser> => {
  const profile = await mkdtemp(join(tmpdir(), "ddn-chromium-"))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: flags,
    viewport,
    deviceScaleFactor: 1,
    serviceWorkers: "block"
  })
  const blocked: Array<string> = []
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url())
    if (url.protocol === "data:" || url.protocol === "blob:" || loopback(url)) return route.continue()
    blocked.push(url.href)
    return route.abort("blockedbyclient")
  })
  const page = context.pages()[0] ?? (await context.newPage())
  return {
    context,
    page,
    blocked,
    close: async () => {
      await context.close()
      await rm(profile, { recursive: true, force: true })
    }
  }
}
