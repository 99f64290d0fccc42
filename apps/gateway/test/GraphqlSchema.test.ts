import { readFileSync, writeFileSync } from "node:fs"
import { describe, expect, it } from "@effect/vitest"
import { buildSchema, execute, parse, printSchema } from "graphql"
import * as GraphqlSchema from "../src/GraphqlSchema.js"
import type * as RefreshResult from "../src/RefreshResult.js"
import * as RequestLog from "../src/RequestLog.js"

const schemaWith = (resolution: RefreshResult.Resolution) => GraphqlSchema.make({ refresh: async () => resolution })

const refresh = async (resolution: RefreshResult.Resolution) => {
  const requestState = RequestLog.start()
  const result = await execute({
    schema: schemaWith(resolution),
    document: parse(`mutation {
      refreshToken(refreshToken: "t") {
        __typename
        ... on TokenPair { accessToken expiresAt }
        ... on RefreshTokenRejected { reason message }
      }
    }`),
    contextValue: { request: new Request("http://localhost/graphql"), requestState }
  })
  return { result: JSON.parse(JSON.stringify(result)), requestState }
}

describe("GraphqlSchema", () => {
  it("is the schema checked in as schema.graphql (set UPDATE_SCHEMA=1 to rewrite the file)", () => {
    const file = new URL("../schema.graphql", import.meta.url)
    const served = printSchema(schemaWith({ outcome: "internal", value: undefined as never }))
    if (process.env.UPDATE_SCHEMA === "1") writeFileSync(file, `${served}\n`)
    // Printing both sides compares the schemas, not the file's formatting (Biome formats .graphql files).
    expect(printSchema(buildSchema(readFileSync(file, "utf8")))).toBe(served)
  })

  it("serves a TokenPair with expiresAt as ISO-8601 UTC and records the outcome", async () => {
    const { result, requestState } = await refresh({
      outcome: "success",
      value: {
        __typename: "TokenPair",
        accessToken: "a",
        refreshToken: "r",
        expiresIn: 60,
        tokenType: "Bearer",
        expiresAt: new Date(Date.UTC(2030, 0, 1))
      }
    })
    expect(result.data.refreshToken).toEqual({
      __typename: "TokenPair",
      accessToken: "a",
      expiresAt: "2030-01-01T00:00:00.000Z"
    })
    expect(requestState.outcome).toBe("success")
  })

  it("serves RefreshTokenRejected as data", async () => {
    const { result } = await refresh({
      outcome: "expired",
      value: { __typename: "RefreshTokenRejected", reason: "EXPIRED", message: "gone" }
    })
    expect(result.data.refreshToken).toEqual({ __typename: "RefreshTokenRejected", reason: "EXPIRED", message: "gone" })
  })

  it("DateTime parses ISO-8601 UTC values and refuses others", () => {
    expect(GraphqlSchema.DateTimeScalar.parseValue("2030-01-01T00:00:00Z")).toEqual(new Date(Date.UTC(2030, 0, 1)))
    expect(() => GraphqlSchema.DateTimeScalar.parseValue("2030-01-01")).toThrow(/ISO-8601/)
    expect(() => GraphqlSchema.DateTimeScalar.parseValue("2030-02-31T00:00:00Z")).toThrow(/impossible/)
    expect(() => GraphqlSchema.DateTimeScalar.serialize(42)).toThrow(/ISO-8601/)
  })
})
