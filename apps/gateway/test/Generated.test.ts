import { readFile } from "node:fs/promises"
import { describe, expect, it } from "@effect/vitest"
import { parse, print, validate } from "graphql"
import { generateAll } from "../scripts/generate.js"
import { RefreshDocument } from "../src/client/index.js"
import * as GraphqlSchema from "../src/GraphqlSchema.js"
import * as GraphqlServer from "../src/GraphqlServer.js"

describe("generated files", () => {
  it("are current: src/client/generated.ts (graphql-codegen) and .env.example (run `pnpm --filter @ddn/gateway generate`)", async () => {
    for (const [file, content] of await generateAll()) {
      expect(await readFile(file, "utf8"), file).toBe(content)
    }
  }, 60_000)

  it("the operation GraphiQL opens with is the typed document, and valid against the served schema", () => {
    const opened = parse(GraphqlServer.exampleOperation)
    expect(print(opened)).toBe(print(RefreshDocument))
    // Validation runs no resolver.
    const schema = GraphqlSchema.make({
      refresh: () => Promise.reject(new Error("not called"))
    })
    expect(validate(schema, opened)).toEqual([])
  })
})
