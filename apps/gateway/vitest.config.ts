import { createRequire } from "node:module"
import { defineProject, mergeConfig } from "vitest/config"
import { shared } from "../../vitest.shared.js"

/**
 * Tests import `graphql` as yoga does (its CommonJS entry): Vite would otherwise pick the `.mjs`
 * build, a second copy whose schemas and errors fail yoga's `instanceof` checks.
 */
const graphqlEntry = createRequire(import.meta.url).resolve("graphql")

export default mergeConfig(
  shared,
  defineProject({ resolve: { alias: [{ find: /^graphql$/, replacement: graphqlEntry }] } })
)
