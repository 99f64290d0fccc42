import { readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const src = join(dirname(fileURLToPath(import.meta.url)), "../src")

/**
 * Every package a module imports, following its relative imports through the sources (an `import` or
 * `export … from` statement: no `=` or `(` before its specifier, unlike an exported declaration).
 */
const packagesReachedFrom = (entry: string): Set<string> => {
  const seen = new Set<string>()
  const packages = new Set<string>()
  const visit = (file: string) => {
    if (seen.has(file)) return
    seen.add(file)
    for (const [, specifier] of readFileSync(file, "utf8").matchAll(/^(?:import|export)[^"=(]*"([^"]+)"/gm)) {
      if (specifier!.startsWith(".")) visit(join(dirname(file), specifier!.replace(/\.js$/, ".ts")))
      else packages.add(specifier!.split("/").slice(0, 2).join("/"))
    }
  }
  visit(join(src, entry))
  return packages
}

describe("entry points", () => {
  it("@ddn/auth loads neither @effect/platform-node nor ioredis; @ddn/auth/node and /redis do", () => {
    const core = packagesReachedFrom("index.ts")
    expect(core).toContain("effect/Effect")
    expect(core).not.toContain("@effect/platform-node")
    expect(core).not.toContain("ioredis")
    expect(packagesReachedFrom("node/index.ts")).toContain("@effect/platform-node")
    expect(packagesReachedFrom("redis/index.ts")).toContain("ioredis")
  })
})
