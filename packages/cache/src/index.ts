// Public surface of @periscope/cache.
export { Cache, createCache } from './cache';
export type {
  SetOptions,
  GetOrSetOptions,
  Factory,
  FactoryContext,
  SetManyEntry,
  WrapOptions,
  L2Health,
} from './types';
export type { CacheOptions, L1Options, L2Options, L3Options, DistributedLockOptions } from './config';
export { defaultL3Dir } from './config';
export { parseRedisUrl } from './redis-url';
export type { RedisTarget, RedisNode } from './redis-url';
export type { L1Policy } from './memory-tier';
export type { RedisClient } from './redis-tier';
export type {
  CacheStats,
  TierStats,
  L2Stats,
  L3Stats,
  LatencyStats,
  EvictionReason,
  BreakerState,
  TierName,
} from './instrumentation';
export type { Serializer, EntryMeta } from './serializer';
export { v8Serializer, defaultSerializer, isPlainJson } from './serializer';
export { canonicalJson, llmCacheKey, argsKey, sha256Hex } from './keys';
export type { LlmKeyInput } from './keys';
export { Cached } from './decorator';
export type { CachedOptions } from './decorator';
export { BUS_VERSION, MAX_BUS_MESSAGE_BYTES } from './bus';
export type { BusMessage, BusOp } from './bus';
export {
  CacheError,
  CacheConfigError,
  CacheInputError,
  CacheSerializationError,
  FactoryTimeoutError,
  CacheAbortedError,
  CacheClosedError,
  L2UnavailableError,
} from './errors';
export type { CacheErrorCode, L2UnavailableReason } from './errors';
