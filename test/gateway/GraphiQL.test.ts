import { gunzipSync } from "node:zlib"
import { type Gateway, GraphiQL, GraphqlServer } from "@ddn/gateway"
import type { SandboxServer } from "@ddn/sandbox"
import * as LogLevel from "effect/LogLevel"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { refresh, startGateway, startSandbox } from "./support.js"

let sandbox: SandboxServer.RunningSandbox
let plain: Gateway.Gateway
let demo: Gateway.Gateway
let production: Gateway.Gateway
const logs: Array<string> = []
let minted = 0

beforeAll(async () => {
  sandbox = await startSandbox()
  ;[plain, demo, production] = await Promise.all([
    startGateway(sandbox.url, { logLevel: LogLevel.Info }, { logSink: (chunk) => void logs.push(chunk) }),
    startGateway(
      sandbox.url,
      {},
      {
        mintDemoRefreshToken: () => {
          minted += 1
          return sandbox.authority.mintSession("demo").refreshToken
        }
      }
    ),
    startGateway(sandbox.url, { production: true })
  ])
})

afterAll(async () => {
  await Promise.all([plain?.close(), demo?.close(), production?.close()])
  await sandbox?.stop()
})

const page = (gateway: Gateway.Gateway) => fetch(gateway.graphqlUrl, { headers: { accept: "text/html" } })

const pageOptions = (html: string) =>
  JSON.parse(/<script type="application\/json" id="graphiql-options">(.*?)<\/script>/s.exec(html)![1]!)

describe("the GraphiQL page", () => {
  it("is a small page with a strict CSP, scripts only from this server, and no host but its own", async () => {
    const response = await page(plain)
    expect(response.status).toBe(200)
    expect(response.headers.get("content-security-policy")).toBe(GraphiQL.contentSecurityPolicy)
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8")
    expect(response.headers.get("x-content-type-options")).toBe("nosniff")
    expect(response.headers.get("cache-control")).toBe("no-store")
    const html = await response.text()
    expect(html.length).toBeLessThan(4096)
    expect(html).not.toMatch(/https?:\/\//)
    const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((match) => match[1]!.trim())
    expect(scripts).toEqual([
      'type="application/json" id="graphiql-options"',
      'src="/graphiql/start.js"',
      'src="/graphiql/graphiql.js"'
    ])
    const options = pageOptions(html)
    expect(options.query).toBe(GraphqlServer.exampleOperation)
    expect(options.storage).toBeNull()
  })

  it("opens with a placeholder outside sandbox mode, and with a fresh demo token on every load in sandbox mode", async () => {
    expect(JSON.parse(pageOptions(await (await page(plain)).text()).variables)).toEqual({
      refreshToken: GraphqlServer.placeholderRefreshToken
    })

    const before = minted
    const first = JSON.parse(pageOptions(await (await page(demo)).text()).variables).refreshToken
    const second = JSON.parse(pageOptions(await (await page(demo)).text()).variables).refreshToken
    expect(minted).toBe(before + 2)
    expect(first).not.toBe(second)
    for (const token of [first, second]) {
      expect((await refresh(demo.graphqlUrl, token)).body.data.refreshToken.__typename).toBe("TokenPair")
    }
    // Requests that are not a page load mint nothing.
    await refresh(demo.graphqlUrl, "x")
    await fetch(`${demo.url}/graphiql/start.js`)
    expect(minted).toBe(before + 2)
  })

  it("escapes the options so that no value can close the data block", () => {
    const html = GraphiQL.render({ title: "</script><script>alert(1)</script>", defaultQuery: "</script>" })
    expect(html.match(/<\/script>/g)).toHaveLength(3)
    expect(html).toContain("<title>&#60;/script&#62;")
    expect(pageOptions(html).defaultQuery).toBe("</script>")
  })

  it("is off in production, files included", async () => {
    expect(await (await page(production)).text()).not.toContain("graphiql")
    expect((await fetch(`${production.url}/graphiql/graphiql.js`)).status).toBe(404)
  })
})

describe("GraphiQL's files", () => {
  it.each([...GraphiQL.assetPaths])("serves %s with a type, an ETag, revalidation and gzip", async (path) => {
    const url = `${plain.url}${path}`
    const identity = await fetch(url, { headers: { "accept-encoding": "identity" } })
    expect(identity.status).toBe(200)
    expect(identity.headers.get("content-type")).toMatch(path.endsWith(".ico") ? /^image\// : /^text\//)
    expect(identity.headers.get("x-content-type-options")).toBe("nosniff")
    expect(identity.headers.get("cache-control")).toBe("no-cache")
    expect(identity.headers.get("content-encoding")).toBeNull()
    const body = Buffer.from(await identity.arrayBuffer())
    expect(body.length).toBeGreaterThan(100)

    const etag = identity.headers.get("etag")!
    expect(etag).toMatch(/^"[\w-]+"$/)
    const revalidated = await fetch(url, { headers: { "if-none-match": etag } })
    expect(revalidated.status).toBe(304)
    expect(await revalidated.text()).toBe("")

    // Raw bytes, so the compressed body can be compared with the identity one.
    const compressed = await new Promise<{ encoding: string | undefined; bytes: Buffer }>((resolve, reject) => {
      import("node:http").then(({ get }) =>
        get(url, { headers: { "accept-encoding": "br;q=1, gzip;q=0.8" } }, (response) => {
          const chunks: Array<Buffer> = []
          response.on("data", (chunk: Buffer) => chunks.push(chunk))
          response.on("end", () =>
            resolve({ encoding: response.headers["content-encoding"], bytes: Buffer.concat(chunks) })
          )
        }).on("error", reject)
      )
    })
    // Files of a kilobyte or less go as they are.
    expect(compressed.encoding).toBe(body.length > 1024 ? "gzip" : undefined)
    expect((compressed.encoding === "gzip" ? gunzipSync(compressed.bytes) : compressed.bytes).equals(body)).toBe(true)
  })

  it("loads nothing from another host", async () => {
    for (const path of ["/graphiql/graphiql.js", "/graphiql/graphiql.css", "/graphiql/start.js"]) {
      const text = await (await fetch(`${plain.url}${path}`)).text()
      expect(text).not.toMatch(/unpkg\.com|jsdelivr|cdnjs|fonts\.googleapis|raw\.githubusercontent/)
    }
    const css = await (await fetch(`${plain.url}/graphiql/graphiql.css`)).text()
    for (const [, target] of css.matchAll(/url\(\s*["']?([^"')]+)/g)) expect(target).toMatch(/^(data:|#)/)
  })

  it("answers 404 for any other file, 405 for other methods, and logs unknown paths as unmatched", async () => {
    expect((await fetch(`${plain.url}/graphiql/secret-token-abc`)).status).toBe(404)
    expect((await fetch(`${plain.url}/graphiql/graphiql.js`, { method: "POST" })).status).toBe(405)
    const head = await fetch(`${plain.url}/graphiql/graphiql.css`, { method: "HEAD" })
    expect(head.status).toBe(200)
    expect(Number(head.headers.get("content-length"))).toBeGreaterThan(0)
    await new Promise((resolve) => setTimeout(resolve, 50))
    const lines = logs.join("")
    expect(lines).not.toContain("secret-token-abc")
    expect(lines).toContain('"path":"/graphiql/graphiql.css"')
    expect(lines).toContain('"path":"(unmatched)"')
  })
})
