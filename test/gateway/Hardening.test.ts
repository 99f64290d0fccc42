import { request as httpRequest } from "node:http"
import type { Gateway } from "@ddn/gateway"
import type { SandboxServer } from "@ddn/sandbox"
import * as Duration from "effect/Duration"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { postJson, refreshMutation, startGateway, startSandbox } from "./support.js"

let sandbox: SandboxServer.RunningSandbox
let gateway: Gateway.Gateway
let production: Gateway.Gateway
let withCors: Gateway.Gateway

beforeAll(async () => {
  sandbox = await startSandbox()
  ;[gateway, production, withCors] = await Promise.all([
    startGateway(sandbox.url),
    startGateway(sandbox.url, { production: true }),
    startGateway(sandbox.url, { corsOrigins: ["https://app.example.com"] })
  ])
})

afterAll(async () => {
  await Promise.all([gateway?.close(), production?.close(), withCors?.close()])
  await sandbox?.stop()
})

/** Runs `action` and checks that the upstream saw no refresh request meanwhile. */
const withoutUpstream = async <A>(action: () => Promise<A>): Promise<A> => {
  const before = sandbox.stats().refreshRequests
  const result = await action()
  expect(sandbox.stats().refreshRequests).toBe(before)
  return result
}

const expectNoStore = (headers: Headers) => {
  expect(headers.get("cache-control")).toBe("no-store")
  expect(headers.get("pragma")).toBe("no-cache")
}

const token = () => sandbox.authority.mintSession().refreshToken
const variables = () => encodeURIComponent(JSON.stringify({ refreshToken: token() }))

/** Sends a body in chunks without Content-Length, and reads the status. */
const streamBody = (url: string, chunks: number, chunkSize: number) =>
  new Promise<{ status: number; headers: Record<string, unknown> }>((resolve, reject) => {
    const request = httpRequest(
      url,
      { method: "POST", headers: { "content-type": "application/json" } },
      (response) => {
        response.resume()
        resolve({ status: response.statusCode ?? 0, headers: response.headers })
      }
    )
    request.on("error", reject)
    const chunk = Buffer.alloc(chunkSize, " ")
    let sent = 0
    const pump = () => {
      while (sent < chunks) {
        sent += 1
        if (!request.write(chunk)) return void request.once("drain", pump)
      }
      request.end()
    }
    pump()
  })

describe("hardening", () => {
  it("sends Cache-Control: no-store and Pragma: no-cache on every /graphql response", async () => {
    const responses = [
      await postJson(gateway.graphqlUrl, { query: refreshMutation, variables: { refreshToken: token() } }),
      await postJson(gateway.graphqlUrl, { query: refreshMutation, variables: { refreshToken: "" } }),
      await postJson(gateway.graphqlUrl, "{not json"),
      await postJson(gateway.graphqlUrl, { query: "{ nope }" }),
      await postJson(gateway.graphqlUrl, "x".repeat(70 * 1024)),
      await fetch(`${gateway.graphqlUrl}?query=${encodeURIComponent("{ health }")}`),
      await fetch(`${gateway.graphqlUrl}?query=${encodeURIComponent(refreshMutation)}&variables=${variables()}`, {
        headers: { "x-graphql-yoga-csrf": "1" }
      }),
      await fetch(withCors.graphqlUrl, {
        method: "OPTIONS",
        headers: { origin: "https://app.example.com", "access-control-request-method": "POST" }
      })
    ]
    for (const response of responses) expectNoStore(response.headers)
    expect(new Set(responses.map((response) => response.status))).toEqual(new Set([200, 400, 413, 403, 405, 204]))
  })

  it("returns a request id on every response", async () => {
    const response = await fetch(`${gateway.url}/healthz`)
    expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/)
    const other = await fetch(`${gateway.url}/healthz`)
    expect(other.headers.get("x-request-id")).not.toBe(response.headers.get("x-request-id"))
  })

  it("refuses a mutation over GET with 405", async () => {
    const response = await withoutUpstream(() =>
      fetch(`${gateway.graphqlUrl}?query=${encodeURIComponent(refreshMutation)}&variables=${variables()}`, {
        headers: { "x-graphql-yoga-csrf": "1", accept: "application/graphql-response+json" }
      })
    )
    expect(response.status).toBe(405)
    expect(response.headers.get("allow")).toBe("POST")
  })

  it("refuses CSRF-prone requests: GET without the CSRF header, text/plain, forms", async () => {
    const query = encodeURIComponent("{ health }")
    const get = await fetch(`${gateway.graphqlUrl}?query=${query}`)
    expect(get.status).toBe(403)
    const getWithHeader = await fetch(`${gateway.graphqlUrl}?query=${query}`, {
      headers: { "x-graphql-yoga-csrf": "1" }
    })
    expect(getWithHeader.status).toBe(200)

    const body = JSON.stringify({ query: refreshMutation, variables: { refreshToken: token() } })
    for (const contentType of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) {
      const response = await withoutUpstream(() =>
        fetch(gateway.graphqlUrl, { method: "POST", headers: { "content-type": contentType }, body })
      )
      expect(response.status).toBe(403)
    }
    const form = await withoutUpstream(() =>
      fetch(gateway.graphqlUrl, {
        method: "POST",
        body: new URLSearchParams({ query: refreshMutation, variables: JSON.stringify({ refreshToken: token() }) })
      })
    )
    expect(form.status).toBe(403)
  })

  it("refuses batches", async () => {
    const operation = { query: refreshMutation, variables: { refreshToken: token() } }
    const response = await withoutUpstream(() => postJson(gateway.graphqlUrl, [operation, operation]))
    expect(response.status).toBe(400)
    expectNoStore(response.headers)
  })

  it("refuses more than 3 aliases", async () => {
    const fields = Array.from({ length: 5 }, (_, i) => `a${i}: refreshToken(refreshToken: $t) { __typename }`)
    const response = await withoutUpstream(() =>
      postJson(gateway.graphqlUrl, {
        query: `mutation($t: String!) { ${fields.join(" ")} }`,
        variables: { t: token() }
      })
    )
    expect(response.status).toBe(400)
    expect(response.body.errors[0].message).toMatch(/aliases/i)
    expect(response.body.errors[0].extensions.code).toBe("GRAPHQL_VALIDATION_FAILED")
  })

  it("refuses documents with too many tokens, directives or too high a cost", async () => {
    const manyTokens = `{ ${"__typename ".repeat(600)}}`
    const tokens = await withoutUpstream(() => postJson(gateway.graphqlUrl, { query: manyTokens }))
    expect(tokens.status).toBe(400)
    expect(JSON.stringify(tokens.body)).toMatch(/token/i)

    const directives = `{ health ${"@include(if: true) ".repeat(20)}}`
    const manyDirectives = await withoutUpstream(() => postJson(gateway.graphqlUrl, { query: directives }))
    expect(manyDirectives.status).toBe(400)
    expect(JSON.stringify(manyDirectives.body)).toMatch(/directives/i)

    const costly = `{ ${"...F ".repeat(40)}} fragment F on Query { ${"health __typename ".repeat(10)}}`
    const cost = await withoutUpstream(() => postJson(gateway.graphqlUrl, { query: costly }))
    expect(cost.status).toBe(400)
    expect(JSON.stringify(cost.body)).toMatch(/cost/i)
  })

  it("does not suggest field names", async () => {
    const response = await postJson(gateway.graphqlUrl, { query: "{ healt }" })
    expect(response.status).toBe(400)
    expect(JSON.stringify(response.body)).not.toMatch(/did you mean|health/i)
  })

  it("refuses a body over 64 KiB with 413 whether or not Content-Length announces it", async () => {
    const announced = await withoutUpstream(() =>
      postJson(gateway.graphqlUrl, {
        query: refreshMutation,
        variables: { refreshToken: token(), padding: "x".repeat(65 * 1024) }
      })
    )
    expect(announced.status).toBe(413)
    expectNoStore(announced.headers)

    const streamed = await withoutUpstream(() => streamBody(gateway.graphqlUrl, 80, 1024))
    expect(streamed.status).toBe(413)
    expect(streamed.headers["cache-control"]).toBe("no-store")

    const underLimit = await postJson(gateway.graphqlUrl, {
      query: refreshMutation,
      variables: { refreshToken: token(), padding: "x".repeat(60 * 1024) }
    })
    expect(underLimit.status).toBe(200)
  })

  it("refuses malformed JSON with 400", async () => {
    for (const body of ['{"query": "{ health }"', "{'query': 1}", "", "null", "[]"]) {
      const response = await withoutUpstream(() => postJson(gateway.graphqlUrl, body))
      expect(response.status, body).toBe(400)
      expectNoStore(response.headers)
    }
  })

  it("sends no CORS headers when CORS_ORIGINS is unset", async () => {
    const response = await fetch(gateway.graphqlUrl, {
      method: "OPTIONS",
      headers: { origin: "https://app.example.com", "access-control-request-method": "POST" }
    })
    expect([...response.headers.keys()].filter((name) => name.startsWith("access-control-"))).toEqual([])
    const post = await postJson(gateway.graphqlUrl, { query: "{ health }" }, { origin: "https://app.example.com" })
    expect(post.headers.get("access-control-allow-origin")).toBeNull()
  })

  it("sends CORS headers only to the origins in CORS_ORIGINS", async () => {
    const preflight = await fetch(withCors.graphqlUrl, {
      method: "OPTIONS",
      headers: { origin: "https://app.example.com", "access-control-request-method": "POST" }
    })
    expect(preflight.headers.get("access-control-allow-origin")).toBe("https://app.example.com")
    expect(preflight.headers.get("access-control-allow-headers")).toContain("x-graphql-yoga-csrf")
    expect(preflight.headers.get("access-control-allow-credentials")).toBeNull()
    expect(preflight.headers.get("vary")).toContain("Origin")

    const allowed = await postJson(withCors.graphqlUrl, { query: "{ health }" }, { origin: "https://app.example.com" })
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://app.example.com")

    const other = await postJson(withCors.graphqlUrl, { query: "{ health }" }, { origin: "https://evil.example.com" })
    expect(other.headers.get("access-control-allow-origin")).toBeNull()
  })

  it("serves GraphiQL with the example operation outside production", async () => {
    const response = await fetch(gateway.graphqlUrl, { headers: { accept: "text/html" } })
    expect(response.status).toBe(200)
    const html = await response.text()
    expect(html).toContain("GraphiQL")
    expect(html).toContain("mutation Refresh")
    expectNoStore(response.headers)
  })

  it("turns introspection and GraphiQL off in production", async () => {
    const introspection = await postJson(production.graphqlUrl, { query: "{ __schema { queryType { name } } }" })
    expect(introspection.status).toBe(400)
    expect(introspection.body.errors[0].message).toMatch(/introspection is disabled/)
    const type = await postJson(production.graphqlUrl, { query: '{ __type(name: "TokenPair") { name } }' })
    expect(type.status).toBe(400)
    const typename = await postJson(production.graphqlUrl, { query: "{ __typename health }" })
    expect(typename.body).toEqual({ data: { __typename: "Query", health: "ok" } })

    const page = await fetch(production.graphqlUrl, { headers: { accept: "text/html" } })
    expect(await page.text()).not.toContain("GraphiQL")

    const development = await postJson(gateway.graphqlUrl, { query: "{ __schema { queryType { name } } }" })
    expect(development.body.data.__schema.queryType.name).toBe("Query")
  })

  it("announces its keep-alive timeout: 5 s by default, KEEP_ALIVE_TIMEOUT_MS (above a balancer's idle timeout) otherwise", async () => {
    const keepAlive = (url: string) =>
      new Promise<unknown>((resolve, reject) => {
        httpRequest(`${url}/healthz`, (response) => {
          response.resume()
          resolve(response.headers["keep-alive"])
        })
          .on("error", reject)
          .end()
      })
    const behindBalancer = await startGateway(sandbox.url, { keepAliveTimeout: Duration.seconds(65) })
    try {
      expect(await keepAlive(gateway.url)).toBe("timeout=5")
      expect(await keepAlive(behindBalancer.url)).toBe("timeout=65")
    } finally {
      await behindBalancer.close()
    }
  })
})
