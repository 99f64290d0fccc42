import { describe, expect, it } from "@effect/vitest"
import * as HttpServer from "../src/HttpServer.js"

const bytes = (text: string) => Buffer.from(text, "utf8")
const request = { query: "{ health }", variables: { refreshToken: "token" } }

describe("HttpServer.parsedJsonBody", () => {
  it("hands yoga a JSON object sent as application/json already parsed", () => {
    const body = bytes(JSON.stringify(request))
    expect(HttpServer.parsedJsonBody("application/json", body)).toEqual(request)
    expect(HttpServer.parsedJsonBody("application/json; charset=utf-8", body)).toEqual(request)
    expect(HttpServer.parsedJsonBody("application/json, text/plain", body)).toEqual(request)
  })

  it.each([
    ["not JSON", "application/json", "{"],
    ["an array (a batch)", "application/json", "[{},{}]"],
    ["an empty object", "application/json", "{}"],
    ["null", "application/json", "null"],
    ["a string", "application/json", '"query"'],
    ["text/plain (CSRF-prone, must reach the CSRF check unchanged)", "text/plain", JSON.stringify(request)],
    ["application/graphql+json", "application/graphql+json", JSON.stringify(request)],
    ["no content type", undefined, JSON.stringify(request)]
  ])("leaves %s as bytes, for yoga to judge", (_, contentType, text) => {
    expect(HttpServer.parsedJsonBody(contentType, bytes(text))).toBeUndefined()
  })
})
