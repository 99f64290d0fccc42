/**
 * What the soak's phases share: waiting, a random pause, and an answer read into a short label.
 */

/** Waits `ms` milliseconds. */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A random number in [min, max). */
export const between = (min: number, max: number) => min + Math.random() * (max - min)

/** Reads an answer into a short label: `pair`, `rejected`, an error code, or an HTTP status. */
export const labelOf = (status: number, body: string): { readonly label: string; readonly pair?: string } => {
  try {
    const json = JSON.parse(body) as {
      data?: { refreshToken?: { __typename?: string; refreshToken?: string } } | null
      errors?: ReadonlyArray<{ extensions?: { code?: string } }>
    }
    const result = json.data?.refreshToken
    if (result?.__typename === "TokenPair" && result.refreshToken !== undefined) {
      return { label: "pair", pair: result.refreshToken }
    }
    if (result?.__typename === "RefreshTokenRejected") return { label: "rejected" }
    return { label: json.errors?.[0]?.extensions?.code ?? `http_${status}` }
  } catch {
    return { label: `http_${status}` }
  }
}
