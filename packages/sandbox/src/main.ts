/**
 * The standalone sandbox process (`pnpm --filter @ddn/sandbox start`): reads the environment, starts
 * the server, prints its URL and a demo refresh token, and stops on SIGTERM or SIGINT (exit 0). A bad
 * variable prints one line naming it and exits 1.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as SandboxOptions from "./SandboxOptions.js"
import * as SandboxServer from "./SandboxServer.js"

const options = SandboxOptions.fromEnv(process.env)
if (Either.isLeft(options)) {
  process.stderr.write(`${options.left}\n`)
  process.exit(1)
}

const sandbox = await SandboxServer.start(options.right).catch((error: unknown) => {
  process.stderr.write(`The DDN sandbox could not start: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})

process.stdout.write(`DDN sandbox listening on ${sandbox.url}\n`)
process.stdout.write(`Demo refresh token: ${sandbox.authority.mintSession().refreshToken}\n`)

const shutdown = () => {
  sandbox.stop().then(() => process.exit(0))
}
process.once("SIGTERM", shutdown)
process.once("SIGINT", shutdown)
