import {
  type GatewayResponse,
  RefreshDocument,
  type RefreshMutationVariables,
  type TokenPair
} from "@ddn/gateway/client"
import { print } from "graphql"

/** What the app does after a refresh. */
export type Outcome =
  | { readonly kind: "refreshed"; readonly pair: TokenPair } // store pair.refreshToken, then use pair.accessToken
  | { readonly kind: "signIn"; readonly reason: "INVALID" | "EXPIRED" | "MALFORMED" } // the session is over
  | { readonly kind: "retry"; readonly afterSeconds: number } // keep the refresh token, try again later
  | { readonly kind: "failed"; readonly code: string } // a bug on either side: report it

const query = print(RefreshDocument)

export async function refresh(endpoint: string, refreshToken: string): Promise<Outcome> {
  const variables: RefreshMutationVariables = { refreshToken }
  let response: Response
  try {
    response = await fetch(endpoint, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/graphql-response+json" },
      body: JSON.stringify({ query, variables })
    })
  } catch {
    return { kind: "retry", afterSeconds: 5 } // offline, or the gateway is unreachable
  }
  // Refusals come with this body whatever the status (e.g. 429 for RATE_LIMITED), so always parse it.
  const body = (await response.json().catch(() => ({}))) as GatewayResponse
  const [error] = body.errors ?? []
  if (error !== undefined) {
    const extensions = error.extensions
    switch (extensions?.code) {
      case "RATE_LIMITED":
        return { kind: "retry", afterSeconds: extensions.retryAfterSeconds }
      case "UPSTREAM_UNAVAILABLE":
        return { kind: "retry", afterSeconds: 2 } // extensions.retryable is true
      case "BAD_USER_INPUT":
        return { kind: "signIn", reason: "MALFORMED" } // the stored token is empty or garbled
      default:
        return { kind: "failed", code: extensions?.code ?? `HTTP ${response.status}` }
    }
  }
  const result = body.data?.refreshToken
  if (result === undefined) return { kind: "failed", code: `HTTP ${response.status}` }
  switch (result.__typename) {
    case "TokenPair":
      return { kind: "refreshed", pair: result }
    case "RefreshTokenRejected":
      return { kind: "signIn", reason: result.reason }
  }
}
