/** @internal */
import type * as PlatformError from "@effect/platform/Error"
import * as ParseResult from "effect/ParseResult"

/**
 * A system error as its kind and the failing call, e.g. `PermissionDenied (open)`. Never the error's
 * message: a decoder's or a runtime's message may quote the data it choked on.
 */
export const describePlatformError = (error: PlatformError.PlatformError): string =>
  error._tag === "SystemError" ? `${error.reason} (${error.syscall ?? error.method})` : `BadArgument (${error.method})`

/** A decode failure as the field paths and issue kinds, never the values that failed. */
export const describeParseError = (error: ParseResult.ParseError): string =>
  [
    ...new Set(
      ParseResult.ArrayFormatter.formatErrorSync(error).map(
        (issue) => `${issue.path.length === 0 ? "content" : issue.path.join(".")}: ${issue._tag}`
      )
    )
  ].join(", ")
