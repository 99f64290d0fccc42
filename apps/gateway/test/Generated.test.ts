import { readFile } from "node:fs/promises"
import { describe, expect, it } from "@effect/vitest"
import { parse, print } from "graphql"
import { generateAll } from "../scripts/generate.js"
import { RefreshDocument } from "../src/client/index.js"
import * as GraphqlServer from "../src/GraphqlServer.js"

describe("generated files", () => {
  it("are current: src/client/generated.ts (graphql-codegen) and .env.example (run `pnpm --filter @ddn/gateway generate`)", async () => {
    for (const [file, content] of await generateAll()) {
      expect(await readFile(file, "utf8"), file).toBe(content)
    }
  }, 60_000)

  it("the typed document is the operation GraphiQL opens with", () => {
    expect(print(RefreshDocument)).toBe(print(parse(GraphqlServer.exampleOperation)))
  })
})
