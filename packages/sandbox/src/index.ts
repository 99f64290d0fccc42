/** Scripted and probabilistic fault injection for the refresh endpoint. */
export * as Faults from "./Faults.js"
/** HS256 signing and verification of the sandbox's access tokens. */
export * as Jwt from "./Jwt.js"
/** Binding a `node:http` server and naming the URL it listens on (also the entry point `@ddn/sandbox/Listening`). */
export * as Listening from "./Listening.js"
/** DDN's global rate limit on the refresh endpoint (`SANDBOX_RATE_LIMIT_RPS`). */
export * as RateLimit from "./RateLimit.js"
/** The sandbox's settings, their defaults, and how the standalone server reads them from the environment. */
export * as SandboxOptions from "./SandboxOptions.js"
/** The HTTP server, its in-process `start`, and the `Sandbox` service and layer. */
export * as SandboxServer from "./SandboxServer.js"
/** The in-memory token state machine: sessions, rotation, reuse detection. */
export * as TokenAuthority from "./TokenAuthority.js"
