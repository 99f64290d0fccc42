/**
 * `@ddn/sandbox`: a faithful in-memory DDN auth server over real HTTP, for local runs, tests and
 * benchmarks. `Listening` is also its own entry point, `@ddn/sandbox/Listening`.
 *
 * @since 0.1.0
 */

/**
 * Scripted and probabilistic fault injection for the refresh endpoint.
 *
 * @since 0.1.0
 */
export * as Faults from "./Faults.js"

/**
 * HS256 signing and verification of the sandbox's access tokens.
 *
 * @since 0.1.0
 */
export * as Jwt from "./Jwt.js"

/**
 * Binding a `node:http` server and naming the URL it listens on.
 *
 * @since 0.1.0
 */
export * as Listening from "./Listening.js"

/**
 * DDN's global rate limit on the refresh endpoint (`SANDBOX_RATE_LIMIT_RPS`).
 *
 * @since 0.1.0
 */
export * as RateLimit from "./RateLimit.js"

/**
 * The sandbox's settings, their defaults, and how the standalone server reads them from the environment.
 *
 * @since 0.1.0
 */
export * as SandboxOptions from "./SandboxOptions.js"

/**
 * The HTTP server, its in-process `start`, and the `Sandbox` service and layer.
 *
 * @since 0.1.0
 */
export * as SandboxServer from "./SandboxServer.js"

/**
 * The in-memory token state machine: sessions, rotation, reuse detection.
 *
 * @since 0.1.0
 */
export * as TokenAuthority from "./TokenAuthority.js"
