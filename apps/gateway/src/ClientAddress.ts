/**
 * Who a request comes from, for the per-client rate limit: the TCP peer, or with `TRUST_PROXY_HOPS=N`
 * the N-th address from the right of `X-Forwarded-For` (the one the outermost trusted proxy saw),
 * normalised into a rate-limit key:
 *
 * - `::ffff:a.b.c.d` (IPv4-mapped IPv6) is the IPv4 address `a.b.c.d`;
 * - an IPv6 address is keyed by its /64 (`2001:db8:1:2::/64`): one subscriber usually holds a whole
 *   /64, so a client cannot mint itself fresh buckets by rotating the interface half;
 * - a port (`1.2.3.4:5678`, `[2001:db8::1]:443`) and an IPv6 zone (`fe80::1%eth0`) are dropped.
 *
 * With `TRUST_PROXY_HOPS=0` `X-Forwarded-For` is ignored entirely. A header with fewer entries than
 * hops (the request reached an inner proxy directly) yields its left-most entry, which a trusted
 * proxy wrote; a chosen entry that is not an IP address (`unknown`, garbage) yields the TCP peer, so
 * a client cannot spread itself over fresh keys by sending junk. Keys are never logged.
 *
 * @since 0.1.0
 */
import { isIPv4, isIPv6 } from "node:net"

/**
 * The key of a request whose peer address is unknown (its socket already closed).
 *
 * @since 0.1.0
 * @category constants
 */
export const unknownPeer = "unknown"

/** The /64 prefix of a valid IPv6 address, e.g. `2001:db8:1:2::/64`, or the IPv4 address it maps. */
const normaliseIPv6 = (address: string): string => {
  const [head = "", tail = ""] = address.split("::", 2) as [string?, string?]
  const groups = (part: string) => (part === "" ? [] : part.split(":"))
  const left = groups(head)
  const right = groups(tail)
  // An embedded IPv4 address (`::ffff:1.2.3.4`) stands for two groups.
  const last = right.length > 0 ? right : left
  const dotted = last.at(-1)?.includes(".") === true ? last.pop()! : undefined
  const ipv4Groups = dotted === undefined ? [] : ["0", "0"]
  const missing = 8 - left.length - right.length - ipv4Groups.length
  const full = [...left, ...(address.includes("::") ? Array<string>(missing).fill("0") : []), ...right, ...ipv4Groups]
  const values = full.map((group) => Number.parseInt(group, 16))
  const mapped = values.slice(0, 5).every((value) => value === 0) && values[5] === 0xffff
  if (mapped) {
    if (dotted !== undefined) return dotted
    return [values[6]! >> 8, values[6]! & 0xff, values[7]! >> 8, values[7]! & 0xff].join(".")
  }
  return `${values
    .slice(0, 4)
    .map((value) => value.toString(16))
    .join(":")}::/64`
}

/**
 * The key of one address as written by a peer or a proxy, or `undefined` when it is not an IP address.
 *
 * @since 0.1.0
 * @category utils
 */
export const normalise = (raw: string): string | undefined => {
  let address = raw.trim()
  if (address.startsWith("[")) {
    const end = address.indexOf("]")
    if (end === -1) return undefined
    address = address.slice(1, end)
  } else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(address)) {
    address = address.slice(0, address.lastIndexOf(":"))
  }
  const zone = address.indexOf("%")
  if (zone !== -1) address = address.slice(0, zone)
  if (isIPv4(address)) return address
  if (isIPv6(address)) return normaliseIPv6(address.toLowerCase())
  return undefined
}

/**
 * The rate-limit key of a request: `peer` is the socket's remote address, `forwardedFor` the
 * `X-Forwarded-For` header(s), `trustedHops` the number of proxies in front of the gateway.
 *
 * @since 0.1.0
 * @category utils
 */
export const of = (
  peer: string | undefined,
  forwardedFor: string | ReadonlyArray<string> | undefined,
  trustedHops: number
): string => {
  const fromPeer = (peer === undefined ? undefined : normalise(peer)) ?? unknownPeer
  if (trustedHops === 0 || forwardedFor === undefined) return fromPeer
  const entries = (typeof forwardedFor === "string" ? forwardedFor : forwardedFor.join(","))
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "")
  if (entries.length === 0) return fromPeer
  const chosen = entries[Math.max(0, entries.length - trustedHops)]!
  return normalise(chosen) ?? fromPeer
}
