import { defineConfig } from "vitest/config"

/** One run for the whole workspace: every package's unit tests and the cross-package tests. */
export default defineConfig({
  test: {
    projects: ["packages/*", "apps/*", "test"]
  }
})
