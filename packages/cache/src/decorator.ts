// @Cached(): memoizes a method through a cache (TypeScript 5 standard decorators). The key is
// `<prefix>:<sha256(canonical JSON of the arguments)>`, the prefix defaulting to Class.method.
import type { Cache, SetOptions } from './cache';
import { argsKey } from './keys';

export interface CachedOptions<This> extends SetOptions {
  /** The cache, or a function of the instance returning it (for caches created per instance). */
  cache: Cache | ((self: This) => Cache);
  /** Key prefix. Default `<ClassName>.<method>`. */
  key?: string;
}

export function Cached<This, A extends unknown[], R>(options: CachedOptions<This>) {
  return function (
    method: (this: This, ...args: A) => Promise<R>,
    context: ClassMethodDecoratorContext<This, (this: This, ...args: A) => Promise<R>>,
  ) {
    const methodName = String(context.name);
    const { cache, key, ...setOptions } = options;
    return function (this: This, ...args: A): Promise<R> {
      const target = typeof cache === 'function' ? cache(this) : cache;
      const prefix = key ?? `${(this as { constructor: { name: string } }).constructor.name}.${methodName}`;
      return target.getOrSet(argsKey(prefix, args), () => method.apply(this, args), setOptions);
    };
  };
}
