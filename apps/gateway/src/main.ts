#!/usr/bin/env node
/**
 * The gateway process, also the `ddn-gateway` bin: `--help` and `--version` answer and exit;
 * otherwise it reads the environment, starts the embedded DDN sandbox when `DDN_API_URL` is unset
 * (sandbox mode), starts the gateway, prints where everything is, and serves until SIGTERM or SIGINT.
 *
 * The program is one scoped Effect run by `NodeRuntime.runMain`: a signal interrupts it, so its
 * scope closes (the gateway shuts down gracefully, then the embedded sandbox stops) and the process
 * exits 0. A bad setting prints one line on stderr and exits 1 (a bad argument: 2).
 *
 * @since 0.1.0
 */
import type * as Runtime from "@effect/platform/Runtime"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Cli from "./Cli.js"
import * as GatewayConfig from "./GatewayConfig.js"
import * as GatewayLogger from "./GatewayLogger.js"

/** Why the process stops before serving: what stderr says, and the exit code. */
class StartupFailure extends Data.TaggedError("StartupFailure")<{
  readonly message: string
  readonly exitCode: number
}> {}

/** `listen` errors that mean the HOST/PORT pair cannot be used. */
const listenErrors = new Set(["EADDRINUSE", "EACCES", "EADDRNOTAVAIL", "ENOTFOUND", "EAI_AGAIN"])

const bracket = (host: string) => (host.includes(":") ? `[${host}]` : host)

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error))

/** Anything else that stops start-up, as one line. */
const failedToStart = (error: unknown) =>
  new StartupFailure({ message: `Gateway failed to start: ${messageOf(error)}`, exitCode: 1 })

/** A start-up step that may reject. */
const attempt = <A>(start: () => Promise<A>, onError: (error: unknown) => StartupFailure = failedToStart) =>
  Effect.tryPromise({ try: start, catch: onError })

const write = (stream: NodeJS.WriteStream, text: string) => Effect.sync(() => void stream.write(text))

/** The embedded sandbox (sandbox mode), stopped when the scope closes. */
const embeddedSandbox = Effect.acquireRelease(
  attempt(async () => {
    const { SandboxServer } = await import("@ddn/sandbox")
    const sandbox = await SandboxServer.start()
    const mintDemoRefreshToken = () => sandbox.authority.mintSession("demo").refreshToken
    return { sandbox, mintDemoRefreshToken }
  }),
  ({ sandbox }) => Effect.promise(() => sandbox.stop())
)

/** Why `Gateway.start` rejected, as the line naming the setting when a port cannot be bound. */
const listenFailure = (config: GatewayConfig.GatewayConfig) => (error: unknown) => {
  const { code, listener } = error as { code?: unknown; listener?: unknown }
  if (typeof code !== "string" || !listenErrors.has(code)) return failedToStart(error)
  const [names, host, port] =
    listener === "metrics"
      ? ["METRICS_HOST/METRICS_PORT", config.metricsHost, Option.getOrElse(config.metricsPort, () => 0)]
      : ["HOST/PORT", config.host, config.port]
  return new StartupFailure({
    message: `Invalid ${names}: cannot listen on ${bracket(host)}:${port} (${code})`,
    exitCode: 1
  })
}

/**
 * The first SIGTERM or SIGINT logged as the shutdown's cause, while the scope is open; `runMain`
 * does the rest (interrupts the program, exits 0). Prepended, so the line precedes the shutdown's
 * own; and since `runMain` stops listening after the first signal, this listener is also what keeps
 * a second one (Ctrl-C twice, or a terminal's and `pnpm`'s SIGINT) from killing the shutdown midway.
 */
const logSignals = (config: GatewayConfig.GatewayConfig) => {
  let logged = false
  const log = (signal: NodeJS.Signals) => {
    if (logged) return
    logged = true
    const logger = GatewayLogger.make({ level: config.logLevel })
    logger.log(LogLevel.Info, "signal received, shutting down", { signal })
    logger.flush()
  }
  return Effect.acquireRelease(
    Effect.sync(() => {
      process.prependListener("SIGTERM", log)
      process.prependListener("SIGINT", log)
    }),
    () =>
      Effect.sync(() => {
        process.removeListener("SIGTERM", log)
        process.removeListener("SIGINT", log)
      })
  )
}

/** Starts everything the environment asks for and serves until interrupted. */
const serve = Effect.gen(function* () {
  // A reader that goes away (e.g. `| head`) must not bring the server down.
  yield* Effect.sync(() => process.stdout.on("error", () => {}))
  const config = yield* Either.match(GatewayConfig.fromEnv(process.env), {
    onLeft: (message) => Effect.fail(new StartupFailure({ message, exitCode: 1 })),
    onRight: Effect.succeed
  })
  // Acquired first, so released last: a second signal is absorbed until the whole shutdown is over.
  yield* logSignals(config)
  // Loaded only once the settings are known to be good, so a bad one fails fast.
  const Gateway = yield* attempt(() => import("./Gateway.js"))

  const embedded = Option.isNone(config.ddnApiUrl) ? yield* embeddedSandbox : undefined
  const gateway = yield* Effect.acquireRelease(
    attempt(
      () =>
        Gateway.start(config, {
          apiUrl: embedded?.sandbox.url,
          mintDemoRefreshToken: embedded?.mintDemoRefreshToken
        }),
      listenFailure(config)
    ),
    (gateway) => Effect.promise(() => gateway.close())
  )

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
  yield* write(process.stdout, `${lines.join("\n")}\n`)
  return yield* Effect.never
}).pipe(Effect.scoped)

/** What the command line asks for; a start-up failure is written as its one line. */
const program = Effect.suspend((): Effect.Effect<void, StartupFailure> => {
  const command = Cli.parse(process.argv.slice(2))
  switch (command._tag) {
    case "Help":
      return write(process.stdout, Cli.help())
    case "Version":
      return write(process.stdout, `${Cli.version}\n`)
    case "Invalid":
      return Effect.fail(
        new StartupFailure({ message: `ddn-gateway: ${command.message}\nTry ddn-gateway --help`, exitCode: 2 })
      )
    case "Run":
      return serve
  }
}).pipe(Effect.tapError((failure) => write(process.stderr, `${failure.message}\n`)))

/**
 * `runMain`'s exit code, but a start-up failure's own: 0 when the program ends or is interrupted (a
 * signal), the failure's code (1, or 2 for a bad argument), 1 for anything else (a failed shutdown).
 */
const teardown: Runtime.Teardown = (exit, onExit) => {
  if (Exit.isSuccess(exit) || Cause.isInterruptedOnly(exit.cause)) return onExit(0)
  const failure = Cause.failureOption(exit.cause)
  onExit(Option.isSome(failure) && failure.value instanceof StartupFailure ? failure.value.exitCode : 1)
}

NodeRuntime.runMain(program, { disableErrorReporting: true, teardown })
