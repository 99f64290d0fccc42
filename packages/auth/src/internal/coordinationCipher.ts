/** @internal */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from "node:crypto"

/**
 * What makes shared coordination state unreadable without the refresh token it is about:
 *
 * - `keyOf(token)`: HMAC-SHA256 of the token under a key derived from the shared secret, so key names
 *   cannot be linked to a token without the secret (nor a token tested against them);
 * - `seal(token, key, text)` / `open(...)`: AES-256-GCM under a key derived with HKDF-SHA256 from the
 *   token itself (salted with the shared secret), with a random 96-bit nonce and the entry's key as
 *   associated data, so a value is only readable by whoever holds the token, and only under its key.
 *
 * Both sub-keys are derived from the secret with HKDF and distinct `info` labels.
 */
export interface CoordinationCipher {
  readonly keyOf: (token: string) => string
  readonly seal: (token: string, key: string, plaintext: string) => string
  /** The plaintext, or `undefined` when the value is not one we sealed for this token and key. */
  readonly open: (token: string, key: string, sealed: string) => string | undefined
}

const version = "v1"
const nonceBytes = 12
const tagBytes = 16

const derive = (secret: Uint8Array, info: string): Buffer =>
  Buffer.from(hkdfSync("sha256", secret, Buffer.alloc(0), `ddn-coordination/${version}/${info}`, 32))

/** The cipher of a shared `secret` (the same on every instance). */
export const make = (secret: Uint8Array): CoordinationCipher => {
  const macKey = derive(secret, "key-names")
  const valueSalt = derive(secret, "value-salt")
  const valueInfo = Buffer.from(`ddn-coordination/${version}/value\x01`)
  /**
   * HKDF-SHA256 (RFC 5869) of the token, salt `valueSalt`: extract, then the one expand block that
   * 32 bytes take; the same bytes as `hkdfSync`, which costs twice as much per call (it makes key objects).
   */
  const valueKey = (token: string) =>
    createHmac("sha256", createHmac("sha256", valueSalt).update(token).digest()).update(valueInfo).digest()

  return {
    keyOf: (token) => createHmac("sha256", macKey).update(token).digest("base64url"),
    seal: (token, key, plaintext) => {
      const nonce = randomBytes(nonceBytes)
      const cipher = createCipheriv("aes-256-gcm", valueKey(token), nonce).setAAD(Buffer.from(key))
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()])
      return `${version}.${Buffer.concat([nonce, body, cipher.getAuthTag()]).toString("base64url")}`
    },
    open: (token, key, sealed) => {
      if (!sealed.startsWith(`${version}.`)) return undefined
      const bytes = Buffer.from(sealed.slice(version.length + 1), "base64url")
      if (bytes.length < nonceBytes + tagBytes) return undefined
      try {
        const decipher = createDecipheriv("aes-256-gcm", valueKey(token), bytes.subarray(0, nonceBytes))
          .setAAD(Buffer.from(key))
          .setAuthTag(bytes.subarray(bytes.length - tagBytes))
        return Buffer.concat([
          decipher.update(bytes.subarray(nonceBytes, bytes.length - tagBytes)),
          decipher.final()
        ]).toString("utf8")
      } catch {
        return undefined
      }
    }
  }
}
