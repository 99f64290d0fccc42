#!/usr/bin/env node
/**
 * The gateway process, also the `ddn-gateway` bin: `--help` and `--version` answer and exit;
 * otherwise it reads the environment, starts the embedded DDN sandbox when `DDN_API_URL` is unset
 * (sandbox mode), starts the gateway, prints where everything is, and shuts down gracefully on
 * SIGTERM or SIGINT (exit 0). A bad setting prints one line on stderr and exits 1.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Cli from "./Cli.js"
import * as GatewayConfig from "./GatewayConfig.js"
import * as GatewayLogger from "./GatewayLogger.js"

const exitWith = (line: string): never => {
  process.stderr.write(`${line}\n`)
  process.exit(1)
}

/** `listen` errors that mean the HOST/PORT pair cannot be used. */
const listenErrors = new Set(["EADDRINUSE", "EACCES", "EADDRNOTAVAIL", "ENOTFOUND", "EAI_AGAIN"])

const bracket = (host: string) => (host.includes(":") ? `[${host}]` : host)

const startSandbox = async () => {
  const { SandboxServer } = await import("@ddn/sandbox")
  const sandbox = await SandboxServer.start()
  const mintDemoRefreshToken = () => sandbox.authority.mintSession("demo").refreshToken
  return { sandbox, mintDemoRefreshToken }
}

const main = async (): Promise<void> => {
  const command = Cli.parse(process.argv.slice(2))
  if (command._tag === "Help") return void process.stdout.write(Cli.help())
  if (command._tag === "Version") return void process.stdout.write(`${Cli.version}\n`)
  if (command._tag === "Invalid") {
    process.stderr.write(`ddn-gateway: ${command.message}\nTry ddn-gateway --help\n`)
    process.exitCode = 2
    return
  }
  // A reader that goes away (e.g. `| head`) must not bring the server down.
  process.stdout.on("error", () => {})
  const loaded = GatewayConfig.fromEnv(process.env)
  if (Either.isLeft(loaded)) return exitWith(loaded.left)
  const config = loaded.right
  // Loaded only once the settings are known to be good, so a bad one fails fast.
  const Gateway = await import("./Gateway.js")

  const embedded = Option.isNone(config.ddnApiUrl) ? await startSandbox() : undefined
  const gateway = await Gateway.start(config, {
    apiUrl: embedded?.sandbox.url,
    mintDemoRefreshToken: embedded?.mintDemoRefreshToken
  }).catch(async (error: unknown) => {
    await embedded?.sandbox.stop()
    const { code, listener } = error as { code?: unknown; listener?: unknown }
    const [names, host, port] =
      listener === "metrics"
        ? ["METRICS_HOST/METRICS_PORT", config.metricsHost, Option.getOrElse(config.metricsPort, () => 0)]
        : ["HOST/PORT", config.host, config.port]
    return exitWith(
      typeof code === "string" && listenErrors.has(code)
        ? `Invalid ${names}: cannot listen on ${bracket(host)}:${port} (${code})`
        : `Gateway failed to start: ${error instanceof Error ? error.message : String(error)}`
    )
  })

  const listening = `http://${bracket(config.host)}:${gateway.port}`
  const browsable = `http://${config.host === "0.0.0.0" || config.host === "::" ? "localhost" : bracket(config.host)}:${gateway.port}/graphql`
  const lines = [
    ...(embedded === undefined
      ? [`DDN API: ${new URL(gateway.apiUrl).origin}`]
      : [`DDN sandbox (embedded): ${embedded.sandbox.url}`, `Demo refresh token: ${embedded.mintDemoRefreshToken()}`]),
    `Gateway listening on ${listening}`,
    config.production ? `GraphQL endpoint: ${browsable}` : `GraphiQL: ${browsable}`,
    ...(gateway.metricsUrl === undefined ? [] : [`Metrics: ${gateway.metricsUrl}`])
  ]
  process.stdout.write(`${lines.join("\n")}\n`)

  let stopping = false
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return
    stopping = true
    const logger = GatewayLogger.make({ level: config.logLevel })
    logger.log(LogLevel.Info, "signal received, shutting down", { signal })
    logger.flush()
    gateway
      .close()
      .then(() => embedded?.sandbox.stop())
      .then(
        () => process.exit(0),
        () => process.exit(1)
      )
  }
  process.on("SIGTERM", shutdown)
  process.on("SIGINT", shutdown)
}

main().catch((error: unknown) =>
  exitWith(`Gateway failed to start: ${error instanceof Error ? error.message : String(error)}`)
)
