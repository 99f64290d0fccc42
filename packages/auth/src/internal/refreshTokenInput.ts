/** @internal */
import type { InvalidInputReason } from "../RefreshError.js"

/** The largest refresh token accepted, in UTF-8 bytes. */
export const maxRefreshTokenBytes = 8 * 1024

// C0 controls, DEL and C1 controls: never part of a token, and the usual carriers of header and log injection.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const controlCharacter = /[\u0000-\u001f\u007f-\u009f]/

/** Why `token` must be refused before any upstream call, or `undefined` when it may be sent. */
export const invalidReason = (token: string): InvalidInputReason | undefined => {
  if (token.trim().length === 0) return "Empty"
  // UTF-8 never takes fewer bytes than UTF-16 code units, so the cheap check settles most cases.
  if (token.length > maxRefreshTokenBytes || Buffer.byteLength(token, "utf8") > maxRefreshTokenBytes) return "TooLong"
  if (controlCharacter.test(token)) return "ControlCharacters"
  return undefined
}
