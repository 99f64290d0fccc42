/**
 * Where the current DDN session is persisted, so that a rotated refresh token survives a restart.
 *
 * Two implementations: an in-memory store (tests, short-lived programs) and a file store that replaces
 * its file atomically (temporary file in the same directory with mode 0600, fsync, rename over the
 * target, fsync of the directory), so a crash at any moment leaves either the old or the new session
 * on disk, never a torn one. The file holds the tokens in clear: it is a credential, like `~/.netrc`.
 *
 * @since 0.1.0
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import { invalidReason } from "./internal/refreshTokenInput.js"
import { describeParseError, describePlatformError } from "./internal/safeDescription.js"
import { InvalidInput } from "./RefreshError.js"
import { TokenGrant } from "./TokenGrant.js"

/**
 * A session known only by its refresh token, e.g. fresh from a login: the first use refreshes it.
 *
 * @since 0.1.0
 * @category models
 */
export class RefreshTokenOnly extends Schema.TaggedClass<RefreshTokenOnly>()("RefreshTokenOnly", {
  refreshToken: Schema.Redacted(Schema.NonEmptyString)
}) {}

/**
 * What a store holds: the latest `TokenGrant` (refresh token, access token and its `expiresAt`), or
 * only a refresh token. Either way `refreshToken` is the one to spend next.
 *
 * @since 0.1.0
 * @category models
 */
export const StoredSession = Schema.Union(TokenGrant, RefreshTokenOnly)
/**
 * @see StoredSession
 *
 * @since 0.1.0
 * @category models
 */
export type StoredSession = TokenGrant | RefreshTokenOnly

/**
 * Whether the stored session carries an access token.
 *
 * @since 0.1.0
 * @category guards
 */
export const isGrant = (session: StoredSession): session is TokenGrant => session instanceof TokenGrant

/**
 * Why a store operation failed.
 *
 * @since 0.1.0
 * @category errors
 */
export const TokenStoreFailure = Schema.Literal("Corrupt", "ReadFailed", "WriteFailed")
/**
 * @see TokenStoreFailure
 *
 * @since 0.1.0
 * @category errors
 */
export type TokenStoreFailure = typeof TokenStoreFailure.Type

/** What a `TokenStoreError` message says went wrong. */
const whatFailed = (reason: TokenStoreFailure): string => {
  switch (reason) {
    case "Corrupt":
      return "The token store does not hold a valid session"
    case "ReadFailed":
      return "The token store could not be read"
    case "WriteFailed":
      return "The token store could not be written"
  }
}

/**
 * The store could not be read or written, or holds something that is not a session. `detail` names
 * the system error or the undecodable field paths, never the store's content.
 *
 * @since 0.1.0
 * @category errors
 */
export class TokenStoreError extends Schema.TaggedError<TokenStoreError>()("TokenStoreError", {
  reason: TokenStoreFailure,
  detail: Schema.String,
  path: Schema.optional(Schema.String)
}) {
  override get message(): string {
    return `${whatFailed(this.reason)} (${this.detail})${this.path === undefined ? "" : `: ${this.path}`}`
  }
}

/**
 * The token store service.
 *
 * @since 0.1.0
 * @category tags
 */
export class TokenStore extends Context.Tag("@ddn/auth/TokenStore")<TokenStore, Service>() {}

/**
 * What a token store can do.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** The persisted session; `None` when nothing was ever saved. */
  readonly load: Effect.Effect<Option.Option<StoredSession>, TokenStoreError>
  /** Replaces the persisted session; once it succeeds, the session survives a crash. */
  readonly save: (session: StoredSession) => Effect.Effect<void, TokenStoreError>
}

/**
 * A store in memory, optionally seeded with a session. Never fails; forgotten when the program ends.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory = (initial?: StoredSession): Effect.Effect<Service> =>
  Effect.map(Ref.make(Option.fromNullable(initial)), (ref) =>
    TokenStore.of({
      load: Ref.get(ref).pipe(Effect.withSpan("TokenStore.load")),
      save: Effect.fn("TokenStore.save")((session: StoredSession) => Ref.set(ref, Option.some(session)))
    })
  )

/**
 * `makeMemory` as a layer: each build of the layer starts from `initial`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory = (initial?: StoredSession): Layer.Layer<TokenStore> =>
  Layer.effect(TokenStore, makeMemory(initial))

/**
 * Hands a refresh token from a sign-in to the store: saves it as a {@link RefreshTokenOnly} session
 * when the store holds none, and leaves a stored session alone, since its refresh token has rotated
 * since and is the one to spend (the sign-in's may already be spent). Succeeds with whether it saved.
 * A token that could never be sent (empty, over 8 KiB, control characters) fails with `InvalidInput`.
 *
 * @since 0.1.0
 * @category utils
 */
export const seed = (
  refreshToken: Redacted.Redacted<string>
): Effect.Effect<boolean, InvalidInput | TokenStoreError, TokenStore> =>
  Effect.gen(function* () {
    const reason = invalidReason(Redacted.value(refreshToken))
    if (reason !== undefined) return yield* new InvalidInput({ reason })
    const store = yield* TokenStore
    if (Option.isSome(yield* store.load)) return false
    yield* store.save(new RefreshTokenOnly({ refreshToken }))
    return true
  }).pipe(Effect.withSpan("TokenStore.seed"))

/**
 * `store`, {@link seed}ed with `refreshToken` (when given) as it is built: the first run of a program
 * starts from the sign-in's token, later runs from what the store kept.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerSeeded =
  (refreshToken: Option.Option<Redacted.Redacted<string>> | Redacted.Redacted<string>) =>
  <E, R>(store: Layer.Layer<TokenStore, E, R>): Layer.Layer<TokenStore, E | InvalidInput | TokenStoreError, R> => {
    const token = Option.isOption(refreshToken) ? refreshToken : Option.some(refreshToken)
    return Option.isNone(token) ? store : Layer.tap(store, (context) => Effect.provide(seed(token.value), context))
  }

/** The file's content: a versioned envelope around the encoded session (tokens in clear). */
const StoreFile = Schema.parseJson(
  Schema.Struct({
    version: Schema.Literal(1),
    session: StoredSession
  })
)

const decodeFile = Schema.decode(StoreFile)
const encodeFile = Schema.encode(StoreFile)

/**
 * A store in the file at `path`. Reading a missing file is `None`; an unreadable or undecodable one
 * is a `TokenStoreError`. A save creates the parent directory (mode 0700) when missing, then writes a
 * temporary file next to the target with mode 0600, fsyncs it, renames it over the target and fsyncs
 * the directory (best effort: some platforms cannot). Saves from one store are serialised; stores in
 * several processes may share a file, the last save winning. A crash can leave a `.<name>.*.tmp` file
 * behind, never a torn target.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeFile = (path: string): Effect.Effect<Service, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const paths = yield* Path.Path
    const target = paths.resolve(path)
    const directory = paths.dirname(target)
    const name = paths.basename(target)
    const writeLock = yield* Effect.makeSemaphore(1)

    const failure = (reason: TokenStoreFailure, detail: string) => new TokenStoreError({ reason, detail, path: target })

    const load = fs.readFileString(target).pipe(
      Effect.map(Option.some),
      Effect.catchIf(
        (error) => error._tag === "SystemError" && error.reason === "NotFound",
        () => Effect.succeed(Option.none<string>())
      ),
      Effect.mapError((error) => failure("ReadFailed", describePlatformError(error))),
      Effect.flatMap(
        Option.match({
          onNone: () => Effect.succeedNone,
          onSome: (text) =>
            decodeFile(text).pipe(
              Effect.map((file) => Option.some(file.session)),
              Effect.mapError((error) => failure("Corrupt", describeParseError(error)))
            )
        })
      ),
      Effect.withSpan("TokenStore.load")
    )

    const syncDirectory = Effect.scoped(Effect.flatMap(fs.open(directory, { flag: "r" }), (handle) => handle.sync))

    const replace = (content: string) =>
      Effect.gen(function* () {
        const temporary = paths.join(directory, `.${name}.${crypto.randomUUID()}.tmp`)
        const write = Effect.scoped(
          Effect.gen(function* () {
            const handle = yield* fs.open(temporary, { flag: "wx", mode: 0o600 })
            yield* handle.writeAll(new TextEncoder().encode(content))
            yield* handle.sync
          })
        )
        yield* write.pipe(
          Effect.zipRight(fs.rename(temporary, target)),
          Effect.tapError(() => Effect.ignore(fs.remove(temporary))),
          Effect.mapError((error) => failure("WriteFailed", describePlatformError(error)))
        )
        yield* Effect.ignore(syncDirectory)
      })

    const save = Effect.fn("TokenStore.save")(function* (session: StoredSession) {
      const content = yield* Effect.orDie(encodeFile({ version: 1, session }))
      yield* fs
        .makeDirectory(directory, { recursive: true, mode: 0o700 })
        .pipe(Effect.mapError((error) => failure("WriteFailed", describePlatformError(error))))
      yield* writeLock.withPermits(1)(replace(content)).pipe(Effect.uninterruptible)
    })

    return TokenStore.of({ load, save })
  })

/**
 * `makeFile` as a layer; needs a `FileSystem` and a `Path` (`DdnAuthNode.layerFileStore` from `@ddn/auth/node` for Node.js).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFile = (path: string): Layer.Layer<TokenStore, never, FileSystem.FileSystem | Path.Path> =>
  Layer.effect(TokenStore, makeFile(path))
