import { defineConfig } from "vitest/config"

/**
 * Settings every test project shares. Workspace packages resolve to their TypeScript sources
 * through the `@ddn/source` export condition, so tests never need a build of a sibling package.
 */
export const shared = defineConfig({
  resolve: { conditions: ["@ddn/source"] },
  ssr: { resolve: { conditions: ["@ddn/source"] } },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
