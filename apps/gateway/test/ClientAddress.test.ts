import { describe, expect, it } from "@effect/vitest"
import * as ClientAddress from "../src/ClientAddress.js"

describe("ClientAddress", () => {
  it("is the TCP peer when no proxy is trusted, whatever X-Forwarded-For says", () => {
    expect(ClientAddress.of("203.0.113.7", undefined, 0)).toBe("203.0.113.7")
    expect(ClientAddress.of("203.0.113.7", "198.51.100.1, 192.0.2.9", 0)).toBe("203.0.113.7")
  })

  it("is the N-th address from the right of X-Forwarded-For with TRUST_PROXY_HOPS=N", () => {
    const header = "198.51.100.1, 192.0.2.9, 10.0.0.2"
    expect(ClientAddress.of("10.0.0.1", header, 1)).toBe("10.0.0.2")
    expect(ClientAddress.of("10.0.0.1", header, 2)).toBe("192.0.2.9")
    expect(ClientAddress.of("10.0.0.1", header, 3)).toBe("198.51.100.1")
    // Repeated headers are one list, in order.
    expect(ClientAddress.of("10.0.0.1", ["198.51.100.1", "192.0.2.9"], 2)).toBe("198.51.100.1")
  })

  it("cannot be chosen by a client that prepends its own X-Forwarded-For entries", () => {
    // The client sent "X-Forwarded-For: 1.1.1.1"; the one trusted proxy appended the real peer.
    expect(ClientAddress.of("10.0.0.1", "1.1.1.1, 203.0.113.7", 1)).toBe("203.0.113.7")
  })

  it("takes the left-most entry of a header shorter than the hops, and the peer without one", () => {
    expect(ClientAddress.of("10.0.0.1", "203.0.113.7", 3)).toBe("203.0.113.7")
    expect(ClientAddress.of("10.0.0.1", undefined, 2)).toBe("10.0.0.1")
    expect(ClientAddress.of("10.0.0.1", " , ,", 2)).toBe("10.0.0.1")
  })

  it("falls back to the peer when the chosen entry is not an address, so junk mints no fresh keys", () => {
    for (const junk of ["unknown", "x", "1.2.3.4.5", "999.1.1.1", "[::1", "_hidden", "<script>"]) {
      expect(ClientAddress.of("10.0.0.1", `${junk}`, 1)).toBe("10.0.0.1")
    }
  })

  it("normalises IPv4-mapped IPv6 to IPv4, drops ports and zones, keys IPv6 by its /64", () => {
    expect(ClientAddress.normalise("::ffff:203.0.113.7")).toBe("203.0.113.7")
    expect(ClientAddress.normalise("::FFFF:cb00:7107")).toBe("203.0.113.7")
    expect(ClientAddress.normalise("203.0.113.7:51234")).toBe("203.0.113.7")
    expect(ClientAddress.normalise("[2001:db8::1]:443")).toBe("2001:db8:0:0::/64")
    expect(ClientAddress.normalise("2001:db8:1:2:aaaa:bbbb:cccc:dddd")).toBe("2001:db8:1:2::/64")
    expect(ClientAddress.normalise("2001:DB8:1:2::99")).toBe("2001:db8:1:2::/64")
    expect(ClientAddress.normalise("fe80::1%eth0")).toBe("fe80:0:0:0::/64")
    expect(ClientAddress.normalise("::1")).toBe("0:0:0:0::/64")
    expect(ClientAddress.normalise("::")).toBe("0:0:0:0::/64")
    expect(ClientAddress.normalise("64:ff9b::203.0.113.7")).toBe("64:ff9b:0:0::/64")
    expect(ClientAddress.normalise("not an address")).toBeUndefined()
  })

  it("gives every address of one /64 the same key, and neighbouring /64s different ones", () => {
    const a = ClientAddress.of("2001:db8:1:2::1", undefined, 0)
    expect(ClientAddress.of("2001:db8:1:2:ffff:ffff:ffff:ffff", undefined, 0)).toBe(a)
    expect(ClientAddress.of("2001:db8:1:3::1", undefined, 0)).not.toBe(a)
  })

  it("has a key for a request whose socket is gone", () => {
    expect(ClientAddress.of(undefined, undefined, 0)).toBe(ClientAddress.unknownPeer)
  })
})
