/**
 * The `ddn-gateway` command line: no arguments runs the gateway (configured by the environment, see
 * `Environment.ts`); `--help` lists every variable with its default; `--version` prints the version.
 * Parsed with Node's `util.parseArgs`: an unknown argument is an error (exit 2), not ignored.
 *
 * @since 0.1.0
 */
import { createRequire } from "node:module"
import { parseArgs } from "node:util"
import * as Environment from "./Environment.js"

/**
 * What the command line asks for.
 *
 * @since 0.1.0
 * @category models
 */
export type Command =
  | { readonly _tag: "Run" }
  | { readonly _tag: "Help" }
  | { readonly _tag: "Version" }
  | { readonly _tag: "Invalid"; readonly message: string }

/**
 * The package's version, from its package.json.
 *
 * @since 0.1.0
 * @category constants
 */
export const version: string = (createRequire(import.meta.url)("../package.json") as { version: string }).version

/**
 * Reads the arguments after `node main.js`.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse = (args: ReadonlyArray<string>): Command => {
  try {
    const { values } = parseArgs({
      args: [...args],
      options: { help: { type: "boolean", short: "h" }, version: { type: "boolean", short: "v" } },
      strict: true,
      allowPositionals: false
    })
    if (values.help) return { _tag: "Help" }
    if (values.version) return { _tag: "Version" }
    return { _tag: "Run" }
  } catch (error) {
    return { _tag: "Invalid", message: error instanceof Error ? error.message : String(error) }
  }
}

/**
 * The `--help` text.
 *
 * @since 0.1.0
 * @category utils
 */
export const help = (): string => `Usage: ddn-gateway [--help] [--version]

The DDN token refresh as a GraphQL mutation (POST /graphql), over @ddn/auth.
Configured by environment variables only:

${Environment.helpText()}

Without DDN_API_URL it runs in sandbox mode: an embedded DDN sandbox, a demo refresh token
printed at start-up, and GraphiQL at /graphql. A bad value stops start-up with one line naming
the variable (exit 1). SIGTERM or SIGINT: finish in-flight requests, then exit 0.
`
