/**
 * The gateway's one JSON line logger. Request lines, Effect logs (through {@link effectLogger}) and
 * graphql-yoga (through {@link yogaLogger}) all end up here, as one JSON object per line on stdout.
 * Lines are buffered and written once per event-loop turn, so a busy gateway makes one `write` call
 * per batch rather than per request. Work below the active level is skipped before any line is built.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as FiberRef from "effect/FiberRef"
import * as FiberRefs from "effect/FiberRefs"
import * as HashMap from "effect/HashMap"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Tracer from "effect/Tracer"
import type { YogaLogger } from "graphql-yoga"

/**
 * Where finished lines go (default `process.stdout`); each call gets one or more whole lines.
 *
 * @since 0.1.0
 * @category models
 */
export type Sink = (chunk: string) => void

/**
 * A levelled JSON line writer.
 *
 * @since 0.1.0
 * @category models
 */
export interface GatewayLogger {
  readonly level: LogLevel.LogLevel
  /** Whether a line at `level` would be written; check it before building one. */
  readonly isEnabled: (level: LogLevel.LogLevel) => boolean
  /** Writes `{"time","level","msg",...fields}` if `level` is enabled. Fields must never hold a token. */
  readonly log: (level: LogLevel.LogLevel, msg: string, fields?: Readonly<Record<string, unknown>>) => void
  /** Writes the buffered lines now (on shutdown). */
  readonly flush: () => void
}

const levelNames: Record<LogLevel.LogLevel["_tag"], string> = {
  All: "trace",
  Trace: "trace",
  Debug: "debug",
  Info: "info",
  Warning: "warn",
  Error: "error",
  Fatal: "fatal",
  None: "none"
}

const flushThreshold = 64 * 1024

/** The fields as JSON members without the braces; a field that cannot be serialised spoils only its own line. */
const serialise = (fields: Readonly<Record<string, unknown>>): string => {
  try {
    return JSON.stringify(fields).slice(1, -1)
  } catch {
    return '"fields":"unserialisable"'
  }
}

/**
 * A logger writing lines at `level` and above to `sink`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: {
  readonly level: LogLevel.LogLevel
  readonly sink?: Sink | undefined
}): GatewayLogger => {
  const { level } = options
  const sink: Sink = options.sink ?? ((chunk) => process.stdout.write(chunk))
  const minimum = level.ordinal
  let pending = ""
  let scheduled = false

  const flush = () => {
    scheduled = false
    if (pending === "") return
    const chunk = pending
    pending = ""
    sink(chunk)
  }

  const isEnabled = (at: LogLevel.LogLevel) => level._tag !== "None" && at.ordinal >= minimum

  const log: GatewayLogger["log"] = (at, msg, fields) => {
    if (!isEnabled(at)) return
    const head = `{"time":"${new Date().toISOString()}","level":"${levelNames[at._tag]}","msg":${JSON.stringify(msg)}`
    const rest = fields === undefined ? "" : serialise(fields)
    pending += rest === "" ? `${head}}\n` : `${head},${rest}}\n`
    if (pending.length >= flushThreshold) flush()
    else if (!scheduled) {
      scheduled = true
      setImmediate(flush)
    }
  }

  return { level, isEnabled, log, flush }
}

const renderMessage = (message: unknown): string =>
  Array.isArray(message)
    ? message.map(renderMessage).join(" ")
    : typeof message === "string"
      ? message
      : String(message)

/**
 * An Effect `Logger` writing to `logger`: the message, the log annotations as fields and, when there is
 * one, the cause rendered with `Cause.pretty` (Effect errors and `Redacted` values never show a token),
 * and the `trace_id` and `span_id` of the span it was logged in, when tracing is on.
 *
 * @since 0.1.0
 * @category loggers
 */
export const effectLogger = (logger: GatewayLogger): Logger.Logger<unknown, void> =>
  Logger.make(({ logLevel, message, cause, annotations, context }) => {
    if (!logger.isEnabled(logLevel)) return
    const fields: Record<string, unknown> = {}
    for (const [key, value] of HashMap.toEntries(annotations)) fields[key] = value
    if (!Cause.isEmpty(cause)) fields.cause = Cause.pretty(cause)
    const span = Context.getOption(FiberRefs.getOrDefault(context, FiberRef.currentContext), Tracer.ParentSpan)
    if (span._tag === "Some" && span.value._tag === "Span" && span.value.sampled) {
      fields.trace_id = span.value.traceId
      fields.span_id = span.value.spanId
    }
    logger.log(logLevel, renderMessage(message), fields)
  })

const kindOf = (value: unknown): string =>
  value instanceof Error ? value.name : value === null ? "null" : Array.isArray(value) ? "array" : typeof value

/**
 * A logger for graphql-yoga that never prints what yoga hands it: yoga's debug lines can carry
 * GraphQL parameters (variables included) and its errors can quote them, so debug and info are
 * dropped and warnings and errors are reduced to the kinds of their arguments.
 *
 * @since 0.1.0
 * @category loggers
 */
export const yogaLogger = (logger: GatewayLogger): YogaLogger => {
  const ignore = () => {}
  const reduced =
    (level: LogLevel.LogLevel, msg: string) =>
    (...args: ReadonlyArray<unknown>) => {
      if (logger.isEnabled(level)) logger.log(level, msg, { kinds: args.map(kindOf) })
    }
  return {
    debug: ignore,
    info: ignore,
    warn: reduced(LogLevel.Warning, "graphql-yoga warning"),
    error: reduced(LogLevel.Error, "graphql-yoga error")
  }
}
