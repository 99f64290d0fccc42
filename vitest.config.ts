import { defineConfig } from "vitest/config"

/**
 * One run for the whole workspace: every package's unit tests and the cross-package tests.
 * Under CI the JSON report feeds the closing `N passed, M failed` line of `.ci/run`.
 */
export default defineConfig({
  test: {
    projects: ["packages/*", "apps/*", "test"],
    reporters: process.env.CI ? ["default", ["json", { outputFile: ".vitest-results.json" }]] : ["default"]
  }
})
