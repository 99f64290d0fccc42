/**
 * A real `redis-server` for one test file: installed from Debian's packages when missing
 * (`scripts/ensure-redis.sh`), started on a free loopback port with no persistence, stopped by its pid.
 * `stop`/`start` keep the port, so a test can take Redis away and bring it back.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { createServer, Socket } from "node:net"
import { fileURLToPath } from "node:url"

const ensureScript = fileURLToPath(new URL("../../scripts/ensure-redis.sh", import.meta.url))

/** A running (or stopped) test Redis. */
export interface RedisServer {
  readonly port: number
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string
  /** The server's pid while it runs. */
  readonly pid: () => number | undefined
  /** Starts it again on the same port (after `stop` or `kill`). */
  readonly start: () => Promise<void>
  /** SIGTERM, and waits for the exit. */
  readonly stop: () => Promise<void>
  /** SIGKILL, and waits for the exit: Redis dies as in a crash. */
  readonly kill: () => Promise<void>
  /** SIGSTOP / SIGCONT: Redis hangs with its connections open. */
  readonly pause: () => void
  readonly resume: () => void
}

/** Installs `redis-server` if this machine lacks it (once per process). */
let ensured = false
export const ensureRedis = (): void => {
  if (ensured) return
  execFileSync("bash", [ensureScript], { stdio: ["ignore", "ignore", "inherit"] })
  ensured = true
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = new Socket()
    socket.once("connect", () => {
      socket.destroy()
      resolve(true)
    })
    socket.once("error", () => resolve(false))
    socket.connect(port, "127.0.0.1")
  })

/** Starts a Redis on a free loopback port. */
export const startRedis = async (): Promise<RedisServer> => {
  ensureRedis()
  const port = await freePort()
  let child: ChildProcess | undefined
  let exited: Promise<void> = Promise.resolve()

  const start = async () => {
    const process_ = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning"],
      { stdio: ["ignore", "ignore", "pipe"] }
    )
    child = process_
    exited = new Promise((resolve) => process_.once("exit", () => resolve()))
    const deadline = Date.now() + 10_000
    while (!(await accepts(port))) {
      if (process_.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not start on ${port}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }

  const signal = async (name: NodeJS.Signals) => {
    const running = child
    if (running === undefined || running.exitCode !== null) return
    running.kill(name)
    await exited
    child = undefined
  }

  await start()
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: () => child?.pid,
    start,
    stop: () => signal("SIGTERM"),
    kill: () => signal("SIGKILL"),
    pause: () => child?.kill("SIGSTOP"),
    resume: () => child?.kill("SIGCONT")
  }
  return server
}
