/**
 * GraphiQL as a new user meets it: `node apps/gateway/dist/main.js` in sandbox mode, opened in
 * Debian's chromium with every non-loopback request blocked, under the page's own
 * Content-Security-Policy. The page renders, the example operation and a fresh demo token are in the
 * editors, and Run shows a TokenPair whose access token the sandbox accepts.
 *
 * `UPDATE_SCREENSHOT=1` (or `pnpm screenshot`) also writes docs/graphiql.png, the README's picture.
 */
import { mkdir } from "node:fs/promises"
import { dirname } from "node:path"
import { fileURLToPath } from "node:url"
import type { Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { killAll, listeningUrl, type Spawned, spawnGateway } from "../gateway/support.js"
import { type Browser, ensureChromium, launch } from "./Chromium.js"

const screenshot = fileURLToPath(new URL("../../docs/graphiql.png", import.meta.url))

let gateway: Spawned
let graphiqlUrl: string
let sandboxUrl: string
let startupToken: string
let browser: Browser
const problems: Array<string> = []

beforeAll(async () => {
  await ensureChromium()
  gateway = spawnGateway({ LOG_LEVEL: "warn" })
  const url = await listeningUrl(gateway)
  graphiqlUrl = `${url}/graphql`
  sandboxUrl = /^DDN sandbox \(embedded\): (\S+)$/m.exec(gateway.stdout())![1]!
  startupToken = /^Demo refresh token: (\S+)$/m.exec(gateway.stdout())![1]!

  browser = await launch()
  const { page } = browser
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`))
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") problems.push(`console: ${message.text()}`)
  })
  await page.addInitScript(() => {
    const seen: Array<string> = []
    Object.defineProperty(window, "__violations", { value: seen })
    document.addEventListener("securitypolicyviolation", (event) =>
      seen.push(`${event.effectiveDirective} ${event.blockedURI}`)
    )
  })
}, 660_000)

afterAll(async () => {
  await browser?.close()
  await killAll()
})

/** The visible text of a Monaco editor, with its non-breaking spaces made plain. */
const editorText = (page: Page, selector: string) =>
  page
    .locator(`${selector} .view-lines`)
    .first()
    // biome-ignore lint/performance/useDomNodeTextContent: Monaco's lines are divs; only the rendered text has the line breaks
    .innerText()
    .then((text) => text.replace(/\u00a0/g, " "))

const variablesToken = async (page: Page): Promise<string> => {
  const pattern = /"refreshToken": "([^"]+)"/
  await expect.poll(() => editorText(page, ".graphiql-editor-tool"), { timeout: 20_000 }).toMatch(pattern)
  return pattern.exec(await editorText(page, ".graphiql-editor-tool"))![1]!
}

const open = async (page: Page) => {
  const response = await page.goto(graphiqlUrl, { waitUntil: "load" })
  expect(response?.status()).toBe(200)
  await page.locator(".graphiql-container").first().waitFor({ timeout: 30_000 })
  await expect.poll(() => editorText(page, ".graphiql-query-editor"), { timeout: 20_000 }).toContain("mutation Refresh")
  return response!
}

describe("GraphiQL in chromium", () => {
  it("renders offline under its CSP with the example operation and a fresh demo token, and Run shows a TokenPair", async () => {
    const { page } = browser
    const response = await open(page)
    const csp = response.headers()["content-security-policy"]
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("default-src 'none'")

    const query = await editorText(page, ".graphiql-query-editor")
    expect(query).toContain("refreshToken(refreshToken: $refreshToken)")
    expect(query).toContain("... on TokenPair")
    const token = await variablesToken(page)
    expect(token).not.toBe(startupToken)

    const answer = page.waitForResponse(
      (candidate) =>
        candidate.request().method() === "POST" && candidate.request().postData()?.includes("Refresh") === true
    )
    await page.locator(".graphiql-execute-button").click()
    const body = await (await answer).json()
    expect(body.data.refreshToken).toMatchObject({ __typename: "TokenPair", tokenType: "Bearer" })
    expect(body.data.refreshToken.refreshToken).not.toBe(token)
    await expect
      .poll(() => editorText(page, ".graphiql-response"), { timeout: 20_000 })
      .toContain('"__typename": "TokenPair"')

    // The pair is real: the sandbox accepts its access token.
    const whoami = await fetch(`${sandboxUrl}/sandbox/whoami`, {
      headers: { authorization: `Bearer ${body.data.refreshToken.accessToken}` }
    })
    expect(await whoami.json()).toEqual({ sub: "demo" })

    if (process.env.UPDATE_SCREENSHOT) {
      await mkdir(dirname(screenshot), { recursive: true })
      await page.screenshot({ path: screenshot })
    }

    // Nothing of the session stays in the browser's storage.
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }))
    expect(stored).not.toContain(token)
    expect(stored).not.toContain(body.data.refreshToken.accessToken)
    expect(await page.evaluate(() => Object.keys(localStorage).filter((key) => key.startsWith("graphiql")))).toEqual([])

    expect(await page.evaluate(() => (window as unknown as { __violations: Array<string> }).__violations)).toEqual([])
    expect(problems).toEqual([])
    expect(browser.blocked).toEqual([])
  })

  it("mints another demo token on every page load, and each one refreshes", async () => {
    const { page } = browser
    await open(page)
    const first = await variablesToken(page)
    await page.reload()
    await open(page)
    const second = await variablesToken(page)
    expect(second).not.toBe(first)

    const answer = page.waitForResponse((candidate) => candidate.request().postData()?.includes("Refresh") === true)
    await page.locator(".graphiql-execute-button").click()
    expect((await (await answer).json()).data.refreshToken.__typename).toBe("TokenPair")
    expect(problems).toEqual([])
    expect(browser.blocked).toEqual([])
  })

  it("enforces the policy: an injected inline script does not run", async () => {
    const { page } = browser
    await open(page)
    const ran = await page.evaluate(() => {
      const script = document.createElement("script")
      script.textContent = "window.__inlineRan = true"
      document.head.append(script)
      return (window as unknown as { __inlineRan?: boolean }).__inlineRan === true
    })
    expect(ran).toBe(false)
    const violations = await page.evaluate(() => (window as unknown as { __violations: Array<string> }).__violations)
    expect(violations.some((violation) => violation.startsWith("script-src"))).toBe(true)
    problems.length = 0
  })

  it("blocks and records requests to other hosts (the fence the other tests rely on)", async () => {
    const { page } = browser
    await open(page)
    const before = browser.blocked.length
    await page.evaluate(() => fetch("https://example.com/").catch(() => undefined))
    expect(browser.blocked.slice(before)).toEqual([])
    // The page's connect-src stops it before the network; a navigation is the browser's own request.
    await page.goto("https://example.com/").catch(() => undefined)
    expect(browser.blocked.slice(before)).toEqual(["https://example.com/"])
    problems.length = 0
  })
})
