import { serverAudits } from "graphql-http"
import { describe, expect, it } from "vitest"
import { sandboxAndGateway } from "./support.js"

const started = sandboxAndGateway()

/** The audits' requests, plus the CSRF header a non-browser client sends with GETs. */
const fetchWithCsrfHeader: typeof fetch = (input, init = {}) => {
  const headers = new Headers(init.headers)
  headers.set("x-graphql-yoga-csrf", "1")
  return fetch(input, { ...init, headers })
}

const audits = serverAudits({ url: () => started.gateway.graphqlUrl, fetchFn: fetchWithCsrfHeader })

describe("GraphQL over HTTP (graphql-http server audits)", () => {
  it("has MUST audits to run", () => {
    expect(audits.filter((audit) => audit.name.startsWith("MUST")).length).toBeGreaterThan(10)
  })

  for (const audit of audits.filter((audit) => audit.name.startsWith("MUST"))) {
    it(audit.name, async () => {
      const result = await audit.fn()
      expect(result.status, result.status === "ok" ? "" : result.reason).toBe("ok")
    })
  }

  it("passes the SHOULD audits too", async () => {
    const failed: Array<string> = []
    for (const audit of audits.filter((audit) => audit.name.startsWith("SHOULD"))) {
      const result = await audit.fn()
      if (result.status !== "ok") failed.push(`${audit.name}: ${result.reason}`)
    }
    expect(failed).toEqual([])
  })

  it("makes no upstream call while auditing", () => {
    expect(started.sandbox.stats().refreshRequests).toBe(0)
  })
})
