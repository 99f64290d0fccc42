/**
 * `@ddn/auth/node`: the layers that pick Node.js's HTTP client and file system. A separate entry point,
 * so the core (`@ddn/auth`) never loads `@effect/platform-node`: browsers, Bun and Deno provide their
 * own `HttpClient` (e.g. `FetchHttpClient.layer`) and `FileSystem`.
 *
 * @since 0.2.0
 */
export * as DdnAuthNode from "./DdnAuthNode.js"
