import * as Either from "effect/Either"
import { fromEnv } from "./SandboxOptions.js"
import { start } from "./SandboxServer.js"

const options = fromEnv(process.env)
if (Either.isLeft(options)) {
  process.stderr.write(`${options.left}\n`)
  process.exit(1)
}

const sandbox = await start(options.right).catch((error: unknown) => {
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
