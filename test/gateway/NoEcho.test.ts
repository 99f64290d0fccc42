import { connect } from "node:net"
import type { Gateway } from "@ddn/gateway"
import type { SandboxServer } from "@ddn/sandbox"
import * as fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { postJson, refreshMutation, startGateway, startSandbox } from "./support.js"

let sandbox: SandboxServer.RunningSandbox
let gateway: Gateway.Gateway
let quick: Gateway.Gateway

beforeAll(async () => {
  sandbox = await startSandbox()
  ;[gateway, quick] = await Promise.all([
    startGateway(sandbox.url),
    // Short HTTP timeouts, so the 408 cases take a second rather than 15.
    startGateway(
      sandbox.url,
      {},
      {
        httpLimits: {
          maxHeaderBytes: 16 * 1024,
          headersTimeoutMs: 500,
          requestTimeoutMs: 800,
          keepAliveTimeoutMs: 5_000,
          checkIntervalMs: 100
        }
      }
    )
  ])
})

afterAll(async () => {
  await Promise.all([gateway?.close(), quick?.close()])
  await sandbox?.stop()
})

/** A marker no response may contain: a GraphQL name, so it fits every position of a document. */
const marker = "zqMarker7f3a"

const withoutUpstream = async <A>(action: () => Promise<A>): Promise<A> => {
  const before = sandbox.stats().refreshRequests
  const result = await action()
  expect(sandbox.stats().refreshRequests).toBe(before)
  return result
}

const get = (params: Record<string, string>, headers: Record<string, string> = {}) =>
  fetch(`${gateway.graphqlUrl}?${new URLSearchParams(params)}`, {
    headers: { "x-graphql-yoga-csrf": "1", accept: "application/graphql-response+json", ...headers }
  })

/** Writes `raw` on a fresh connection and resolves with everything the server sent until it closed. */
const rawExchange = (port: number, write: (socket: ReturnType<typeof connect>) => void) =>
  new Promise<string>((resolve, reject) => {
    const socket = connect(port, "127.0.0.1")
    let received = ""
    socket.setEncoding("utf8")
    socket.on("data", (chunk: string) => {
      received += chunk
    })
    socket.on("error", reject)
    socket.on("close", () => resolve(received))
    socket.on("connect", () => write(socket))
  })

describe("no echo of the request", () => {
  it("answers a body that is not JSON with 400 and a fixed message", async () => {
    const response = await postJson(gateway.graphqlUrl, `{"query": "${marker}`)
    expect(response.status).toBe(400)
    expect(JSON.stringify(response.body)).not.toContain(marker)
    expect(response.body.errors[0]).toEqual({
      message: "POST body sent invalid JSON.",
      extensions: { code: "BAD_REQUEST" }
    })
  })

  it("answers GET with malformed variables or extensions with 400, not 500", async () => {
    for (const param of ["variables", "extensions"]) {
      const response = await withoutUpstream(() => get({ query: "{ health }", [param]: `{${marker}` }))
      expect(response.status, param).toBe(400)
      const text = await response.text()
      expect(text).not.toContain(marker)
      expect(JSON.parse(text).errors[0].extensions.code).toBe("BAD_REQUEST")
      expect(response.headers.get("cache-control")).toBe("no-store")
    }
  })

  it("quotes no variable value, literal or unknown name, and suggests nothing", async () => {
    const cases: ReadonlyArray<{ readonly query: string; readonly variables?: Record<string, unknown> }> = [
      {
        query: "mutation($t: String!) { refreshToken(refreshToken: $t) { __typename } }",
        variables: { t: { a: marker } }
      },
      { query: "mutation($t: String!) { refreshToken(refreshToken: $t) { __typename } }", variables: { t: [marker] } },
      { query: `mutation { refreshToken(refreshToken: {a: "${marker}"}) { __typename } }` },
      { query: `mutation { refreshToken(refreshToken: ${marker}) { __typename } }` },
      { query: `mutation { refreshToken(refreshToken: 12${marker}) { __typename } }` },
      { query: `{ ${marker} }` },
      { query: "{ healt }" },
      { query: `mutation { refreshToken(refreshToke: "x", ${marker}: 1) { __typename } }` },
      { query: "mutation($t: Strin) { refreshToken(refreshToken: $t) { __typename } }" },
      { query: `mutation($${marker}: String) { refreshToken(refreshToken: "x") { __typename } }` },
      { query: 'mutation { refreshToken(refreshToken: "x") { ... on TokenPai { accessToken } } }' },
      { query: 'mutation { refreshToken(refreshToken: "x") { ... on RefreshTokenRejected { reasn } } }' },
      { query: `{ health @${marker} }` },
      { query: `{ ...${marker} }` },
      { query: `query ${marker} { health } query Other { health }` },
      { query: `query($v: RefreshTokenRejectedReason = INVALD) { health }` }
    ]
    for (const { query, variables } of cases) {
      const response = await withoutUpstream(() => postJson(gateway.graphqlUrl, { query, variables }))
      const text = JSON.stringify(response.body)
      expect(response.status, query).toBe(400)
      expect(text, query).not.toContain(marker)
      expect(text, query).not.toMatch(/did you mean|suggestion/i)
      // The near misses' schema names are not suggested either.
      for (const [typo, name] of [
        ["healt ", "health"],
        ["TokenPai ", "TokenPair"],
        ["reasn", "reason"],
        ["INVALD", "INVALID"],
        ["Strin)", '"String"']
      ] as const) {
        if (query.includes(typo)) expect(text, query).not.toContain(name)
      }
    }
  })

  it("names no unexpected parameter and no unknown operation", async () => {
    const parameter = await postJson(gateway.graphqlUrl, { query: "{ health }", [marker]: 1 })
    expect(parameter.status).toBe(400)
    const operation = await postJson(gateway.graphqlUrl, { query: "{ health }", operationName: marker })
    expect(operation.status).toBe(400)
    for (const response of [parameter, operation]) expect(JSON.stringify(response.body)).not.toContain(marker)
  })

  it("never echoes a marker in random bodies, variables and query parameters, and never answers 5xx", async () => {
    const json = fc.jsonValue({ maxDepth: 3 })
    const withMarker = fc
      .tuple(fc.string({ unit: "binary", maxLength: 40 }), fc.string({ unit: "binary", maxLength: 40 }))
      .map(([before, after]) => `${before}${marker}${after}`)
    /** A JSON value with the marker somewhere: as a string, a key, or inside an array. */
    const markedJson = fc.oneof(
      withMarker,
      fc.tuple(json, withMarker).map(([value, text]) => ({ [text]: value })),
      fc.tuple(json, withMarker).map(([value, text]) => [value, text, { nested: [text] }])
    )
    const literal = fc.constantFrom(
      `"${marker}"`,
      marker,
      `{a: "${marker}"}`,
      `[${marker}]`,
      `12${marker}`,
      `$${marker}`,
      `"""${marker}"""`,
      `"\\u${marker}"`
    )
    const documents = fc.oneof(
      literal.map((value) => `mutation { refreshToken(refreshToken: ${value}) { __typename } }`),
      literal.map((value) => `query($v: String = ${value}) { health }`),
      fc.constantFrom(
        `{ ${marker} }`,
        `{ health(${marker}: 1) }`,
        `{ health @${marker} }`,
        `{ ...${marker} }`,
        `fragment F on ${marker} { health } { ...F }`,
        `query($v: ${marker}) { health }`,
        `query ${marker} { health } query Q { health }`,
        `{ health } ${marker}`,
        `{ "${marker}" }`,
        `mutation($t: String!) { refreshToken(refreshToken: $t) { __typename ... on ${marker} { x } } }`
      ),
      fc.constant("mutation($t: String!) { refreshToken(refreshToken: $t) { __typename } }")
    )
    const request = fc.oneof(
      // A raw body, JSON or not.
      withMarker.map((body) => ({ kind: "post" as const, body })),
      // A JSON body: a document, marked variables, an operation name, extensions.
      fc
        .record({
          query: documents,
          variables: fc.option(fc.record({ t: markedJson, other: markedJson }), { nil: undefined }),
          operationName: fc.option(fc.constantFrom(marker, "Q"), { nil: undefined }),
          extensions: fc.option(markedJson, { nil: undefined })
        })
        .map((body) => ({ kind: "post" as const, body: JSON.stringify(body) })),
      // A GET with marked query parameters.
      fc
        .record({
          query: fc.oneof(documents, fc.constant("{ health }")),
          variables: fc.oneof(
            withMarker,
            markedJson.map((value) => JSON.stringify(value))
          ),
          extensions: fc.option(withMarker, { nil: undefined })
        })
        .map((params) => ({
          kind: "get" as const,
          params: Object.fromEntries(Object.entries(params).filter(([, value]) => value !== undefined)) as Record<
            string,
            string
          >
        }))
    )
    const accept = fc.constantFrom("application/graphql-response+json", "application/json", "*/*")

    await fc.assert(
      fc.asyncProperty(request, accept, async (sent, acceptHeader) => {
        const response =
          sent.kind === "post"
            ? await fetch(gateway.graphqlUrl, {
                method: "POST",
                headers: { "content-type": "application/json", accept: acceptHeader },
                body: sent.body
              })
            : await get(sent.params, { accept: acceptHeader })
        const text = await response.text()
        const headers = [...response.headers].join("\n")
        expect(response.status).toBeLessThan(500)
        expect(text).not.toContain(marker)
        expect(headers).not.toContain(marker)
      }),
      { numRuns: 400, seed: 20_261_201 }
    )
  })
})

describe("media types", () => {
  it("refuses event-stream and multipart answers with 406 before anything runs", async () => {
    for (const accept of ["text/event-stream", "multipart/mixed", "text/html", "application/json; charset=latin1"]) {
      const response = await withoutUpstream(() =>
        fetch(gateway.graphqlUrl, {
          method: "POST",
          headers: { "content-type": "application/json", accept },
          body: JSON.stringify({ query: refreshMutation, variables: { refreshToken: marker } })
        })
      )
      expect(response.status, accept).toBe(406)
      expect(response.headers.get("cache-control")).toBe("no-store")
      expect(await response.text()).not.toContain(marker)
    }
  })

  it("answers JSON, no-store, whenever JSON is among the accepted types", async () => {
    const token = sandbox.authority.mintSession().refreshToken
    const response = await fetch(gateway.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream, multipart/mixed, application/json" },
      body: JSON.stringify({ query: refreshMutation, variables: { refreshToken: token } })
    })
    expect(response.status).toBe(200)
    expect(response.headers.get("content-type")).toContain("application/json")
    expect(response.headers.get("cache-control")).toBe("no-store")
    expect((await response.json()).data.refreshToken.__typename).toBe("TokenPair")
  })
})

describe("HTTP limits", () => {
  it("answers 431 to headers over 16 KiB", async () => {
    const answer = await rawExchange(gateway.port, (socket) =>
      socket.write(`GET /healthz HTTP/1.1\r\nhost: localhost\r\nx-big: ${"a".repeat(17 * 1024)}\r\n\r\n`)
    )
    expect(answer).toMatch(/^HTTP\/1\.1 431 /)
    expect(answer).toContain("connection: close")
    expect(answer).not.toContain("aaaa")
  })

  it("answers 408 to a body that does not arrive in time, and to headers that never end", async () => {
    const slowBody = await rawExchange(quick.port, (socket) => {
      socket.write(
        "POST /graphql HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n"
      )
      socket.write('{"query":')
    })
    expect(slowBody).toMatch(/^HTTP\/1\.1 408 /)
    const slowHeaders = await rawExchange(quick.port, (socket) => socket.write("GET /healthz HTTP/1.1\r\nhost: x\r\n"))
    expect(slowHeaders).toMatch(/^HTTP\/1\.1 408 /)
    // A request that arrives in time is served as usual.
    expect((await fetch(`${quick.url}/healthz`)).status).toBe(200)
  })

  it("answers 400, without echo, to what is not HTTP", async () => {
    const answer = await rawExchange(gateway.port, (socket) => socket.write(`${marker} / HTTP/1.1\r\n\r\n`))
    expect(answer).toMatch(/^HTTP\/1\.1 400 /)
    expect(answer).not.toContain(marker)
  })
})
