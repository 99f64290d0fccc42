import { readFileSync } from "node:fs"
import { describe, expect, it } from "@effect/vitest"
import * as Cli from "../src/Cli.js"

describe("Cli", () => {
  it.each([
    [[], "Run"],
    [["--help"], "Help"],
    [["-h"], "Help"],
    [["--version"], "Version"],
    [["-v"], "Version"],
    [["--help", "--version"], "Help"]
  ])("%j is %s", (args, tag) => {
    expect(Cli.parse(args)._tag).toBe(tag)
  })

  it.each([[["--port=4000"]], [["serve"]], [["--help=yes"]]])("refuses %j", (args) => {
    const command = Cli.parse(args)
    expect(command._tag).toBe("Invalid")
  })

  it("reports the package's version", () => {
    const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"))
    expect(Cli.version).toBe(manifest.version)
  })
})
