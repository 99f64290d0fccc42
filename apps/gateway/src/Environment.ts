/**
 * Every environment variable the gateway reads, with its default and meaning: the one list that
 * `ddn-gateway --help`, `.env.example` and the README tables are made from or checked against (a test
 * fails when they differ, or when `GatewayConfig` reads a variable that is not listed here). A new
 * variable is a new row.
 *
 * @since 0.1.0
 */

/** One variable. */
export interface Variable {
  readonly name: string
  /** The value used when the variable is unset; `undefined` when unset means something else (see `unset`). */
  readonly default: string | undefined
  /** What leaving the variable unset does, when there is no default value. */
  readonly unset?: string | undefined
  /** One line: what it sets, and what it accepts. */
  readonly description: string
}

/** The gateway's variables, in the order they are documented. */
export const variables: ReadonlyArray<Variable> = [
  { name: "PORT", default: "4000", description: "listening port, 0–65535 (0 = any free port)" },
  { name: "HOST", default: "0.0.0.0", description: "listening interface (host name or IP address)" },
  {
    name: "DDN_API_URL",
    default: undefined,
    unset: "sandbox mode",
    description: "DDN base URL (http or https); required when NODE_ENV=production"
  },
  { name: "DDN_REFRESH_TIMEOUT_MS", default: "10000", description: "overall deadline of one refresh, 1–600000 ms" },
  { name: "DDN_ATTEMPT_TIMEOUT_MS", default: "3000", description: "timeout of each upstream attempt, 1–600000 ms" },
  { name: "DDN_MAX_ATTEMPTS", default: "4", description: "upstream attempts per refresh, 1–10" },
  {
    name: "DDN_MAX_IN_FLIGHT",
    default: "256",
    description: "upstream calls in flight at once (and upstream connections), 1–100000; beyond: UPSTREAM_UNAVAILABLE"
  },
  {
    name: "DDN_REUSE_WINDOW_MS",
    default: "10000",
    description: "how long a grant is returned again for a resubmitted token, 0–3600000 ms (0 disables)"
  },
  {
    name: "DDN_REUSE_MAX_ENTRIES",
    default: "100000",
    description: "most grants the reuse window keeps (least recently used evicted), 1–10000000"
  },
  { name: "LOG_LEVEL", default: "info", description: "trace, debug, info, warn, error, fatal or none" },
  {
    name: "CORS_ORIGINS",
    default: undefined,
    unset: "no CORS headers",
    description: "comma-separated origins allowed from browsers, e.g. https://app.example.com"
  },
  {
    name: "SHUTDOWN_GRACE_MS",
    default: "10000",
    description: "how long SIGTERM waits for in-flight requests, 0–600000 ms"
  },
  {
    name: "NODE_ENV",
    default: undefined,
    unset: "development",
    description: "production: no introspection, no GraphiQL, DDN_API_URL required"
  },
  {
    name: "RATE_LIMIT_PER_MINUTE",
    default: "60",
    description: "refreshes per client in any minute (token bucket), 0 off, else 4–1000000000"
  },
  {
    name: "TRUST_PROXY_HOPS",
    default: "0",
    description: "proxies in front, 0–16: the client is then the N-th X-Forwarded-For entry from the right"
  },
  { name: "METRICS_PORT", default: "9464", description: "port of the /metrics listener, 0–65535 (0 = any) or off" },
  { name: "METRICS_HOST", default: "127.0.0.1", description: "interface of the /metrics listener" },
  {
    name: "REDIS_URL",
    default: undefined,
    unset: "in-memory coordination",
    description: "redis:// or rediss:// URL (credentials, /db): coordinate refreshes across instances through it"
  },
  {
    name: "DDN_COORDINATION_SECRET",
    default: undefined,
    unset: "required with REDIS_URL",
    description: "required with REDIS_URL: at least 32 characters, the same on every instance"
  },
  {
    name: "DDN_COORDINATION_FAILOVER_MS",
    default: "5000",
    description: "how long refreshes wait for Redis to come back before coordinating locally, 0–60000 ms"
  },
  {
    name: "OTEL_EXPORTER_OTLP_ENDPOINT",
    default: undefined,
    unset: "no traces",
    description: "OTLP/HTTP collector base URL (http or https; /v1/traces is appended): export traces to it"
  },
  {
    name: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    default: undefined,
    unset: "OTEL_EXPORTER_OTLP_ENDPOINT",
    description: "OTLP/HTTP traces URL, used as is; wins over OTEL_EXPORTER_OTLP_ENDPOINT"
  },
  { name: "OTEL_EXPORTER_OTLP_PROTOCOL", default: "http/protobuf", description: "http/protobuf or http/json" },
  {
    name: "OTEL_EXPORTER_OTLP_HEADERS",
    default: undefined,
    unset: "no headers",
    description: "key=value,… headers sent to the collector (e.g. an API key); never logged"
  },
  { name: "OTEL_SERVICE_NAME", default: "ddn-gateway", description: "service.name of the traces" },
  {
    name: "OTEL_RESOURCE_ATTRIBUTES",
    default: undefined,
    unset: "none",
    description: "key=value,… resource attributes, e.g. deployment.environment.name=prod"
  },
  {
    name: "OTEL_TRACES_SAMPLER",
    default: "parentbased_always_on",
    description: "always_on, always_off, traceidratio or parentbased_ one of them"
  },
  { name: "OTEL_TRACES_SAMPLER_ARG", default: "1", description: "the traceidratio samplers' ratio, 0–1" },
  {
    name: "OTEL_BSP_SCHEDULE_DELAY",
    default: "5000",
    description: "longest a finished span waits for its batch, 0–600000 ms"
  },
  { name: "OTEL_BSP_EXPORT_TIMEOUT", default: "30000", description: "longest one export may take, 1–600000 ms" },
  {
    name: "OTEL_BSP_MAX_QUEUE_SIZE",
    default: "2048",
    description: "most spans waiting for export; more are dropped and counted, 1–1000000"
  },
  {
    name: "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
    default: "512",
    description: "most spans in one export, 1–1000000 (at most the queue size)"
  }
]

/** The default as the docs show it: the value, or `unset → <what that does>`. */
export const shownDefault = (variable: Variable): string => variable.default ?? `unset → ${variable.unset ?? "not set"}`

/** The environment part of `--help`: one aligned line per variable. */
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
