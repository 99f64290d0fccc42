/**
 * `@ddn/auth/redis`: coordination of refreshes across several processes through Redis (ioredis 5).
 * A separate entry point, so programs that do not use Redis never load ioredis.
 *
 * @since 0.2.0
 */
export * as RedisConnection from "./RedisConnection.js"
export * as RefreshCoordinator from "./RefreshCoordinator.js"
