/**
 * Ready-made layers for Node.js: the client over a pooled keep-alive undici `HttpClient`.
 *
 * @since 0.1.0
 */
import { NodeHttpClient } from "@effect/platform-node"
import type * as ConfigError from "effect/ConfigError"
import * as Layer from "effect/Layer"
import * as DdnAuthClient from "./DdnAuthClient.js"

/** `DdnAuthClient` configured from the `DDN_*` environment variables, over `NodeHttpClient.layerUndici`. */
export const layer: Layer.Layer<DdnAuthClient.DdnAuthClient, ConfigError.ConfigError> =
  DdnAuthClient.layerConfig().pipe(Layer.provide(NodeHttpClient.layerUndici))

/** `DdnAuthClient` from explicit options, over `NodeHttpClient.layerUndici`. */
export const layerOptions = (options: DdnAuthClient.Options): Layer.Layer<DdnAuthClient.DdnAuthClient> =>
  DdnAuthClient.layer(options).pipe(Layer.provide(NodeHttpClient.layerUndici))
