/**
 * Every environment variable the gateway reads, with its default and meaning: the one list that
 * `ddn-gateway --help`, `.env.example` and the README tables are made from or checked against (a test
 * fails when they differ, or when `GatewayConfig` reads a variable that is not listed here). A new
 * variable is a new row.
 *
 * @since 0.1.0
 */

/**
 * One variable: its default value, or (for a variable without one) what leaving it unset does.
 *
 * @since 0.1.0
 * @category models
 */
export interface Variable {
  readonly name: string
  /** The value used when the variable is unset; `undefined` when unset means something else (see `unset`). */
  readonly default: string | undefined
  /** What leaving the variable unset does, when there is no default value. */
  readonly unset?: string | undefined
  /** One line: what it sets, and what it accepts. */
  readonly description: string
}

/** A variable with a default value. */
const defaulted = (name: string, value: string, description: string): Variable => ({
  name,
  default: value,
  description
})

/** A variable without one: `unset` says what leaving it unset does. */
const optional = (name: string, unset: string, description: string): Variable => ({
  name,
  default: undefined,
  unset,
  description
})

// biome-ignore format: a table, one row per variable (name, default or what unset does, description)
/**
 * The gateway's variables, in the order they are documented.
 *
 * @since 0.1.0
 * @category constants
 */
export const variables: ReadonlyArray<Variable> = [
  defaulted("PORT", "4000", "listening port, 0–65535 (0 = any free port)"),
  defaulted("HOST", "0.0.0.0", "listening interface (host name or IP address)"),
  optional("DDN_API_URL", "sandbox mode", "DDN base URL (http or https); required when NODE_ENV=production"),
  defaulted("DDN_REFRESH_TIMEOUT_MS", "10000", "overall deadline of one refresh, 1–600000 ms"),
  defaulted("DDN_ATTEMPT_TIMEOUT_MS", "3000", "timeout of each upstream attempt, 1–600000 ms"),
  defaulted("DDN_MAX_ATTEMPTS", "4", "upstream attempts per refresh, 1–10"),
  defaulted("DDN_MAX_IN_FLIGHT", "256", "upstream calls in flight at once (and upstream connections), 1–100000; beyond: UPSTREAM_UNAVAILABLE"),
  defaulted("DDN_REUSE_WINDOW_MS", "10000", "how long a grant is returned again for a resubmitted token, 0–3600000 ms (0 disables)"),
  defaulted("DDN_REUSE_MAX_ENTRIES", "100000", "most grants the reuse window keeps (least recently used evicted), 1–10000000"),
  defaulted("LOG_LEVEL", "info", "trace, debug, info, warn, error, fatal or none"),
  optional("CORS_ORIGINS", "no CORS headers", "comma-separated origins allowed from browsers, e.g. https://app.example.com"),
  defaulted("SHUTDOWN_GRACE_MS", "10000", "how long SIGTERM waits for in-flight requests, 0–600000 ms"),
  defaulted("KEEP_ALIVE_TIMEOUT_MS", "5000", "idle keep-alive connections close after this, 1000–600000 ms; above a load balancer's idle timeout (e.g. 65000 for 60 s)"),
  optional("NODE_ENV", "development", "production: no introspection, no GraphiQL, DDN_API_URL required"),
  defaulted("RATE_LIMIT_PER_MINUTE", "60", "refreshes per client in any minute (token bucket), 0 off, else 4–1000000000"),
  defaulted("TRUST_PROXY_HOPS", "0", "proxies in front, 0–16: the client is then the N-th X-Forwarded-For entry from the right"),
  defaulted("METRICS_PORT", "9464", "port of the /metrics listener, 0–65535 (0 = any) or off"),
  defaulted("METRICS_HOST", "127.0.0.1", "interface of the /metrics listener"),
  optional("REDIS_URL", "in-memory coordination", "redis:// or rediss:// URL (credentials, /db): coordinate refreshes across instances through it"),
  optional("DDN_COORDINATION_SECRET", "required with REDIS_URL", "required with REDIS_URL: at least 32 characters, the same on every instance"),
  defaulted("DDN_COORDINATION_FAILOVER_MS", "5000", "how long refreshes wait for Redis to come back before coordinating locally, 0–60000 ms"),
  defaulted("DDN_COORDINATION_LEASE_MS", "3000", "how long a refresh's claim on a token lasts unrenewed: a paused or dead holder's call is taken over after it, 300–60000 ms"),
  optional("OTEL_EXPORTER_OTLP_ENDPOINT", "no traces", "OTLP/HTTP collector base URL (http or https; /v1/traces is appended): export traces to it"),
  optional("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTLP/HTTP traces URL, used as is; wins over OTEL_EXPORTER_OTLP_ENDPOINT"),
  defaulted("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf", "http/protobuf or http/json"),
  optional("OTEL_EXPORTER_OTLP_HEADERS", "no headers", "key=value,… headers sent to the collector (e.g. an API key); never logged"),
  defaulted("OTEL_SERVICE_NAME", "ddn-gateway", "service.name of the traces"),
  optional("OTEL_RESOURCE_ATTRIBUTES", "none", "key=value,… resource attributes, e.g. deployment.environment.name=prod"),
  defaulted("OTEL_TRACES_SAMPLER", "parentbased_always_on", "always_on, always_off, traceidratio or parentbased_ one of them"),
  defaulted("OTEL_TRACES_SAMPLER_ARG", "1", "the traceidratio samplers' ratio, 0–1"),
  defaulted("OTEL_BSP_SCHEDULE_DELAY", "5000", "longest a finished span waits for its batch, 0–600000 ms"),
  defaulted("OTEL_BSP_EXPORT_TIMEOUT", "30000", "longest one export may take, 1–600000 ms"),
  defaulted("OTEL_BSP_MAX_QUEUE_SIZE", "2048", "most spans waiting for export; more are dropped and counted, 1–1000000"),
  defaulted("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "512", "most spans in one export, 1–1000000 (at most the queue size)")
]

/**
 * The default as the docs show it: the value, or `unset → <what that does>`.
 *
 * @since 0.1.0
 * @category utils
 */
export const shownDefault = (variable: Variable): string => variable.default ?? `unset → ${variable.unset ?? "not set"}`

/**
 * The environment part of `--help`: one aligned line per variable.
 *
 * @since 0.1.0
 * @category utils
 */
export const helpText = (): string => {
  const nameWidth = Math.max(...variables.map((variable) => variable.name.length)) + 2
  const defaultWidth = Math.max(...variables.map((variable) => shownDefault(variable).length)) + 2
  return variables
    .map(
      (variable) =>
        `  ${variable.name.padEnd(nameWidth)}${shownDefault(variable).padEnd(defaultWidth)}${variable.description}`
    )
    .join("\n")
}

/**
 * The content of `.env.example`: every variable commented out at its default, so a copy of the file
 * changes nothing until a line is uncommented (a blank value is not a default).
 *
 * @since 0.1.0
 * @category utils
 */
export const envExample = (): string =>
  [
    "# The DDN gateway's environment, every variable at its default (generated from",
    "# apps/gateway/src/Environment.ts; `pnpm --filter @ddn/gateway generate` rewrites it).",
    "# Copy to .env, uncomment what you change, and run: node --env-file=.env apps/gateway/dist/main.js",
    ...variables.flatMap((variable) => [
      "",
      `# ${variable.description}${variable.default === undefined ? ` (unset: ${variable.unset})` : ""}`,
      `# ${variable.name}=${variable.default ?? ""}`
    ]),
    ""
  ].join("\n")
