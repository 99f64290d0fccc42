/** @internal */
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"

/** Reads and drops a body we do not need, within 1 s, so the keep-alive connection can be reused. */
export const discardBody = (response: HttpClientResponse.HttpClientResponse): Effect.Effect<void> =>
  response.arrayBuffer.pipe(Effect.timeout(Duration.seconds(1)), Effect.ignore)
