/** @internal */
import type * as PlatformError from "@effect/platform/Error"
import * as ParseResult from "effect/ParseResult"

/**
 * A system error as its kind and the failing call, e.g. `PermissionDenied (open)`. Never the error's
 * message: a decoder's or a runtime's message may quote the data it choked on.
 */
export const describePlatformError = (error: PlatformError.PlatformError): string =>
  error._tag === "SystemError" ? `${error.reason} (${error.syscall ?? error.method})` : `BadArgument (${error.method})`

/**
 * A decode failure as its issues, `path: kind` each without repeats (the decoded value itself named
 * `root`), e.g. `expiresIn: Type`. Never the values that failed, nor the decoder's message, which
 * quotes them.
 */
export const parseIssues = (error: ParseResult.ParseError, root: string): ReadonlyArray<string> => [
  ...new Set(
    ParseResult.ArrayFormatter.formatErrorSync(error).map(
      (issue) => `${issue.path.length === 0 ? root : issue.path.join(".")}: ${issue._tag}`
    )
  )
]

/** {@link parseIssues} in one line, the root named `content`: e.g. `content: Type, session.expiresAt: Missing`. */
export const describeParseError = (error: ParseResult.ParseError): string => parseIssues(error, "content").join(", ")
