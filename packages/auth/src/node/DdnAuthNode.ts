/**
 * Ready-made layers for Node.js: the client over a pooled keep-alive undici `HttpClient`, and the file
 * token store over Node's file system.
 *
 * @since 0.1.0
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodePath from "@effect/platform-node/NodePath"
import type * as ConfigError from "effect/ConfigError"
import * as Layer from "effect/Layer"
import * as DdnAuthClient from "../DdnAuthClient.js"
import * as TokenStore from "../TokenStore.js"

/**
 * `DdnAuthClient` configured from the `DDN_*` environment variables, over `NodeHttpClient.layerUndici`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<DdnAuthClient.DdnAuthClient, ConfigError.ConfigError> =
  DdnAuthClient.layerConfig().pipe(Layer.provide(NodeHttpClient.layerUndici))

/**
 * `DdnAuthClient` from explicit options, over `NodeHttpClient.layerUndici`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerOptions = (options: DdnAuthClient.Options): Layer.Layer<DdnAuthClient.DdnAuthClient> =>
  DdnAuthClient.layer(options).pipe(Layer.provide(NodeHttpClient.layerUndici))

/**
 * `TokenStore.layerFile(path)` over Node's file system.
 *
 * @since 0.2.0
 * @category layers
 */
export const layerFileStore = (path: string): Layer.Layer<TokenStore.TokenStore> =>
  TokenStore.layerFile(path).pipe(Layer.provide([NodeFileSystem.layer, NodePath.layer]))
