/**
 * Reading what a request sends: its body within the size limit, as JSON, and the refresh token of
 * `POST /gateway/auth/refresh` and `POST /sandbox/inspect`. A bad request comes back as the
 * {@link Reply} that refuses it.
 *
 * @internal
 */
import type { IncomingMessage } from "node:http"
import * as Either from "effect/Either"
import { type Body, isJson, readBody } from "./http.js"
import { errorReply, invalidRequest, type Reply } from "./replies.js"

/** The largest request body the sandbox reads; more is answered with {@link tooLarge}. */
export const maxBodyBytes = 64 * 1024

/** The 413 of a body over {@link maxBodyBytes}. */
export const tooLarge = errorReply(413, "payload_too_large", `The request body exceeds ${maxBodyBytes} bytes`)

const wrongContentType = invalidRequest("Content-Type must be application/json")
const notJson = invalidRequest("The request body is not valid JSON")
const noToken = invalidRequest("refreshToken must be a non-empty string")

/** The 400 of a JSON body that is not an object. */
export const notObject = invalidRequest("The request body must be a JSON object")

/** Reads a body of at most {@link maxBodyBytes}: the bytes, `"too-large"`, or `"aborted"` when the client went. */
export const readLimited = (req: IncomingMessage): Promise<Body> => readBody(req, maxBodyBytes)

/** A JSON object, not an array. */
export const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

const parseJson = (body: Buffer): Either.Either<unknown, Reply> => {
  try {
    return Either.right(JSON.parse(body.toString("utf8")))
  } catch {
    return Either.left(notJson)
  }
}

const parseJsonBody = (req: IncomingMessage, body: Buffer): Either.Either<unknown, Reply> =>
  isJson(req.headers["content-type"]) ? parseJson(body) : Either.left(wrongContentType)

/** Reads and parses a JSON body; `undefined` when the client has gone. */
export const readJson = async (req: IncomingMessage): Promise<Either.Either<unknown, Reply> | undefined> => {
  const body = await readLimited(req)
  if (body === "aborted") return undefined
  return body === "too-large" ? Either.left(tooLarge) : parseJsonBody(req, body)
}

/** The `refreshToken` of a `{"refreshToken": "…"}` body, non-empty. */
export const refreshTokenOf = (req: IncomingMessage, body: Buffer): Either.Either<string, Reply> => {
  const json = parseJsonBody(req, body)
  if (Either.isLeft(json)) return Either.left(json.left)
  if (!isRecord(json.right)) return Either.left(notObject)
  const token = json.right.refreshToken
  return typeof token === "string" && token.length > 0 ? Either.right(token) : Either.left(noToken)
}
