/**
 * GraphiQL served by the gateway itself, so it works with no internet and under a strict
 * Content-Security-Policy. The code is yoga's own GraphiQL build (`@graphql-yoga/render-graphiql`,
 * the release matching graphql-yoga: GraphiQL 5 with Monaco), served as files under
 * {@link assetPrefix} instead of the 9 MB page of inline scripts that package renders: the page
 * itself is a few hundred bytes of HTML with its options in a JSON data block, and no inline script.
 *
 * The page keeps nothing in the browser's storage (GraphiQL's `storage: null`): the editors, tabs and
 * history hold refresh and access tokens, which must not outlive the tab in `localStorage`.
 *
 * Nothing is loaded until the first GraphiQL request, so a gateway that never serves it (production)
 * never holds its code in memory.
 *
 * @since 0.1.0
 */
import { createHash } from "node:crypto"
import type { IncomingMessage, ServerResponse } from "node:http"
import { promisify } from "node:util"
import { gzip } from "node:zlib"
import type { GraphiQLOptions, Plugin } from "graphql-yoga"

/**
 * yoga's GraphiQL options, plus two that its GraphiQL reads but yoga's type leaves out: the initial
 * contents of the operation and variables editors.
 *
 * @since 0.1.0
 * @category models
 */
export interface PageOptions extends GraphiQLOptions {
  readonly query?: string
  readonly variables?: string
}

/**
 * The path every GraphiQL file is served under.
 *
 * @since 0.1.0
 * @category constants
 */
export const assetPrefix = "/graphiql/"

/**
 * The page's policy: its own origin for scripts, workers, styles and requests; `data:` only for the
 * fonts and images GraphiQL's stylesheet embeds. `style-src` allows inline styles because Monaco
 * and GraphiQL insert `<style>` elements at run time; scripts have no such exception.
 *
 * @since 0.1.0
 * @category constants
 */
export const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "worker-src 'self'",
  "connect-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'"
].join("; ")

/**
 * The headers of the GraphiQL page, on top of the `/graphql` ones (`no-store`).
 *
 * @since 0.1.0
 * @category constants
 */
export const pageHeaders: Readonly<Record<string, string>> = {
  "content-type": "text/html; charset=utf-8",
  "content-security-policy": contentSecurityPolicy,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin"
}

/** The monaco worker labels GraphiQL asks for, and the files that serve them. */
const workerFiles = {
  editorWorkerService: "editor.worker.js",
  json: "json.worker.js",
  graphql: "graphql.worker.js"
} as const

/** Sets up Monaco's workers (before GraphiQL's code runs) and renders GraphiQL once the page is parsed. */
const startScript = `"use strict";
(function () {
  var workers = ${JSON.stringify(Object.fromEntries(Object.entries(workerFiles).map(([label, file]) => [label, `${assetPrefix}${file}`])))};
  self.MonacoEnvironment = {
    globalAPI: false,
    getWorkerUrl: function (_moduleId, label) { return workers[label]; }
  };
  document.addEventListener("DOMContentLoaded", function () {
    var options = JSON.parse(document.getElementById("graphiql-options").textContent);
    YogaGraphiQL.renderYogaGraphiQL(document.getElementById("root"), options);
  });
})();
`

interface Asset {
  readonly contentType: string
  readonly body: Buffer
  readonly etag: string
  gzipped?: Promise<Buffer>
}

const asset = (contentType: string, body: Buffer): Asset => ({
  contentType,
  body,
  etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`
})

const javascript = "text/javascript; charset=utf-8"

let loading: Promise<ReadonlyMap<string, Asset>> | undefined

/** GraphiQL's files by path, loaded from `@graphql-yoga/render-graphiql` on first use. */
const assets = (): Promise<ReadonlyMap<string, Asset>> => {
  loading ??= import("@graphql-yoga/render-graphiql/graphiql").then((graphiql) => {
    const favicon = /^data:[^;,]+;base64,(.*)$/.exec(graphiql.favicon)?.[1] ?? ""
    return new Map<string, Asset>([
      [`${assetPrefix}start.js`, asset(javascript, Buffer.from(startScript))],
      [`${assetPrefix}graphiql.js`, asset(javascript, Buffer.from(graphiql.js))],
      [`${assetPrefix}graphiql.css`, asset("text/css; charset=utf-8", Buffer.from(graphiql.css))],
      [
        `${assetPrefix}${workerFiles.editorWorkerService}`,
        asset(javascript, Buffer.from(graphiql.editorWorkerService))
      ],
      [`${assetPrefix}${workerFiles.json}`, asset(javascript, Buffer.from(graphiql.jsonWorker))],
      [`${assetPrefix}${workerFiles.graphql}`, asset(javascript, Buffer.from(graphiql.graphqlWorker))],
      [`${assetPrefix}favicon.ico`, asset("image/x-icon", Buffer.from(favicon, "base64"))]
    ])
  })
  return loading
}

/**
 * The paths of GraphiQL's files; only these are served (and logged) under {@link assetPrefix}.
 *
 * @since 0.1.0
 * @category constants
 */
export const assetPaths: ReadonlySet<string> = new Set(
  ["start.js", "graphiql.js", "graphiql.css", ...Object.values(workerFiles), "favicon.ico"].map(
    (file) => `${assetPrefix}${file}`
  )
)

const gzipAsync = promisify(gzip)

/** Whether `Accept-Encoding` lists `gzip` (or `*`) with a non-zero quality. */
const acceptsGzip = (request: IncomingMessage): boolean =>
  (request.headers["accept-encoding"] ?? "").split(",").some((entry) => {
    const [coding = "", ...parameters] = entry.split(";").map((part) => part.trim().toLowerCase())
    const quality = parameters.find((parameter) => parameter.startsWith("q="))
    return (coding === "gzip" || coding === "*") && (quality === undefined || Number(quality.slice(2)) > 0)
  })

/**
 * Serves one of {@link assetPaths} (GET or HEAD): revalidated on every use (`no-cache` with a strong
 * `ETag`, so an unchanged file costs a 304), gzipped when the client accepts it (compressed once, on
 * first use). Anything else under the prefix is 404.
 *
 * @since 0.1.0
 * @category utils
 */
export const serveAsset = async (request: IncomingMessage, response: ServerResponse, path: string): Promise<void> => {
  const method = request.method
  if (method !== "GET" && method !== "HEAD") {
    response.statusCode = 405
    response.setHeader("allow", "GET, HEAD")
    return void response.end()
  }
  const file = assetPaths.has(path) ? (await assets()).get(path) : undefined
  if (file === undefined) {
    response.statusCode = 404
    return void response.end()
  }
  response.setHeader("cache-control", "no-cache")
  response.setHeader("etag", file.etag)
  response.setHeader("vary", "Accept-Encoding")
  response.setHeader("x-content-type-options", "nosniff")
  response.setHeader("cross-origin-resource-policy", "same-origin")
  if (request.headers["if-none-match"] === file.etag) {
    response.statusCode = 304
    return void response.end()
  }
  let body = file.body
  if (acceptsGzip(request) && body.length > 1024) {
    file.gzipped ??= gzipAsync(file.body)
    body = await file.gzipped
    response.setHeader("content-encoding", "gzip")
  }
  response.statusCode = 200
  response.setHeader("content-type", file.contentType)
  response.setHeader("content-length", body.length)
  response.end(method === "HEAD" ? undefined : body)
}

/** JSON that is safe inside a `<script>` element: no `<`, `>`, `&` or line separators as such. */
const scriptSafeJson = (value: unknown): string =>
  JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`
  )

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)

/**
 * The GraphiQL page for `options` (yoga's `renderGraphiQL`): the options in a JSON data block, the
 * stylesheet and scripts from {@link assetPrefix}, and GraphiQL's storage turned off.
 *
 * @since 0.1.0
 * @category utils
 */
export const render = (options: GraphiQLOptions): string => {
  const pageOptions = { ...options, storage: null }
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title ?? "GraphiQL")}</title>
<link rel="icon" href="${assetPrefix}favicon.ico">
<link rel="stylesheet" href="${assetPrefix}graphiql.css">
<script type="application/json" id="graphiql-options">${scriptSafeJson(pageOptions)}</script>
<script src="${assetPrefix}start.js"></script>
<script src="${assetPrefix}graphiql.js"></script>
</head>
<body id="body" class="no-focus-outline">
<noscript>GraphiQL needs JavaScript.</noscript>
<div id="root"></div>
</body>
</html>
`
}

/**
 * Adds {@link pageHeaders} to yoga's HTML answers (the GraphiQL page).
 *
 * @since 0.1.0
 * @category plugins
 */
export const pageHeadersPlugin: Plugin = {
  onResponse: ({ response }) => {
    if (!response.headers.get("content-type")?.startsWith("text/html")) return
    for (const name in pageHeaders) response.headers.set(name, pageHeaders[name]!)
  }
}
