import { readFileSync } from "node:fs"
import { describe, expect, it } from "@effect/vitest"
import * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as HashSet from "effect/HashSet"
import * as Cli from "../src/Cli.js"
import * as Environment from "../src/Environment.js"
import * as GatewayConfig from "../src/GatewayConfig.js"

/** The names `GatewayConfig.config` asks its provider for. */
const namesRead = (): Set<string> => {
  const names = new Set<string>()
  const provider = ConfigProvider.fromFlat(
    ConfigProvider.makeFlat({
      load: (path) => {
        names.add(path.join("_"))
        return Effect.fail(ConfigError.MissingData([...path], "unset"))
      },
      enumerateChildren: () => Effect.succeed(HashSet.empty()),
      patch: { _tag: "Empty" }
    })
  )
  Effect.runSync(Effect.either(Effect.withConfigProvider(GatewayConfig.config, provider)))
  return names
}

/** The `| \`NAME\` | default |` rows of the first table under `heading` in a README. */
const tableRows = (readme: string, heading: RegExp): Map<string, string> => {
  const text = readFileSync(new URL(readme, import.meta.url), "utf8")
  const start = text.search(heading)
  expect(start, `${readme}: ${heading}`).toBeGreaterThan(-1)
  const rows = new Map<string, string>()
  for (const line of text.slice(start).split("\n")) {
    const match = /^\| `([A-Z_]+)` \| ([^|]*) \|/.exec(line)
    if (match !== null) rows.set(match[1]!, match[2]!.replaceAll("`", "").trim())
    else if (rows.size > 0 && !line.startsWith("|")) break
  }
  return rows
}

const listed = new Map(Environment.variables.map((variable) => [variable.name, Environment.shownDefault(variable)]))

/** Config values compared as the gateway uses them. */
const effective = (env: Record<string, string>) => Either.getOrThrow(GatewayConfig.fromEnv(env))

describe("Environment", () => {
  it("lists every variable GatewayConfig reads, and nothing else", () => {
    expect([...listed.keys()].sort()).toEqual([...namesRead()].sort())
  })

  it.each(Environment.variables.filter((variable) => variable.default !== undefined))(
    "the listed default of $name is the one GatewayConfig uses",
    (variable) => {
      expect(effective({ [variable.name]: variable.default! })).toEqual(effective({}))
    }
  )

  it.each([
    ["../../../README.md", /^Environment \(a bad value/m],
    ["../README.md", /^## Environment/m]
  ])("matches the environment table of %s (name and default)", (readme, heading) => {
    expect(tableRows(readme, heading)).toEqual(listed)
  })

  it("is what --help lists, one line per variable with its default", () => {
    const help = Cli.help()
    for (const variable of Environment.variables) {
      const line = help.split("\n").find((candidate) => candidate.trimStart().startsWith(`${variable.name} `))
      expect(line, variable.name).toBeDefined()
      expect(line).toContain(Environment.shownDefault(variable))
      expect(line).toContain(variable.description)
    }
  })

  it("is what .env.example holds: every variable commented out at its default", () => {
    const example = Environment.envExample()
    const assignments = example.split("\n").filter((line) => /^# [A-Z_]+=/.test(line))
    expect(assignments).toEqual(Environment.variables.map((variable) => `# ${variable.name}=${variable.default ?? ""}`))
    expect(example.split("\n").every((line) => line === "" || line.startsWith("#"))).toBe(true)
  })
})
