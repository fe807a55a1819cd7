export declare function ensureServices(options?: { log?: (message: string) => void }): Promise<() => Promise<void>>;
export declare function canConnect(host: string, port: number, timeoutMs?: number): Promise<boolean>;
export declare function freePort(): Promise<number>;
export declare const DEFAULT_DATABASE_URL: string;
export declare const DEFAULT_REDIS_URL: string;
