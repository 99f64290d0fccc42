import { execFile, spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { connect } from "node:net"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { Environment } from "@ddn/gateway"
import { afterAll, describe, expect, it } from "vitest"
import { mainJs } from "./support.js"

const root = fileURLToPath(new URL("../..", import.meta.url))
const run = (args: ReadonlyArray<string>) =>
  promisify(execFile)(process.execPath, [mainJs, ...args], { env: { PATH: process.env.PATH ?? "" } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error
  )

describe("ddn-gateway --help / --version", () => {
  it("--help lists every variable with its default, and exits 0 without starting anything", async () => {
    const { code, stdout, stderr } = await run(["--help"])
    expect(code).toBe(0)
    expect(stderr).toBe("")
    expect(stdout).toMatch(/^Usage: ddn-gateway/)
    for (const variable of Environment.variables) {
      expect(stdout).toMatch(
        new RegExp(
          `^  ${variable.name} +${Environment.shownDefault(variable).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} `,
          "m"
        )
      )
    }
    expect(stdout).not.toContain("Gateway listening")
  })

  it("--version prints the package's version", async () => {
    const manifest = JSON.parse(readFileSync(new URL("../../apps/gateway/package.json", import.meta.url), "utf8"))
    expect(await run(["--version"])).toEqual({ code: 0, stdout: `${manifest.version}\n`, stderr: "" })
  })

  it("refuses an unknown argument with exit 2 and a pointer to --help", async () => {
    const { code, stdout, stderr } = await run(["--port", "4000"])
    expect(code).toBe(2)
    expect(stdout).toBe("")
    expect(stderr).toMatch(/^ddn-gateway: .*\nTry ddn-gateway --help\n$/)
  })
})

/** Pids of `pid`'s descendants (Linux `/proc`). */
const descendants = (pid: number): Array<number> => {
  const found: Array<number> = []
  const walk = (parent: number) => {
    let children: Array<number> = []
    try {
      children = readFileSync(`/proc/${parent}/task/${parent}/children`, "utf8").split(" ").filter(Boolean).map(Number)
    } catch {
      return
    }
    for (const child of children) {
      found.push(child)
      walk(child)
    }
  }
  walk(pid)
  return found
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, "127.0.0.1")
    socket.once("connect", () => {
      socket.destroy()
      resolve(true)
    })
    socket.once("error", () => resolve(false))
  })

/** Everything \`pnpm start\` ran, to kill whatever is left after a failure. */
const started = new Set<number>()
afterAll(() => {
  for (const pid of started) if (alive(pid)) process.kill(pid, "SIGKILL")
})

describe("pnpm start", () => {
  it("makes the gateway the process pnpm signals: SIGTERM to pnpm's pid shuts the gateway down and frees its port", async () => {
    const child = spawn("pnpm", ["start"], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? root,
        HOST: "127.0.0.1",
        PORT: "0",
        LOG_LEVEL: "warn"
      },
      stdio: ["ignore", "pipe", "pipe"]
    })
    started.add(child.pid!)
    let output = ""
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk
    })
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk
    })
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))

    const deadline = Date.now() + 90_000
    let port: number | undefined
    while (port === undefined && Date.now() < deadline && child.exitCode === null) {
      const match = /^Gateway listening on http:\/\/127\.0\.0\.1:(\d+)$/m.exec(output)
      if (match !== null) port = Number(match[1])
      else await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect(port, output).toBeDefined()
    expect(await portOpen(port!)).toBe(true)
    const processes = descendants(child.pid!)
    for (const pid of processes) started.add(pid)
    expect(processes.length).toBeGreaterThan(0)

    child.kill("SIGTERM")
    expect(await exited).toBe(0)
    await expect.poll(() => portOpen(port!), { timeout: 15_000 }).toBe(false)
    await expect.poll(() => processes.filter(alive), { timeout: 15_000 }).toEqual([])
    expect(output).not.toMatch(/ELIFECYCLE|Command failed/)
  }, 120_000)
})
