export { TcpFaultProxy, type TcpFaultProxyOptions, type ProxyMode } from './tcp-proxy';
export { postgresUrl, redisUrl, freePort, canConnect } from './services';
export { promtoolCheckMetrics, promtoolPath } from './promtool';
export { startChildApp, type ChildApp, type StartChildOptions } from './child-app';
export { startPrometheus, type PrometheusServer, type PrometheusOptions } from './prometheus';
export { startRedisCluster, type RedisClusterHandle, type ClusterNode } from './redis-cluster';
export { launchChromium, openWatchedPage, CHROMIUM, type WatchedPage } from './browser';
export { outcomeWithin } from './within';
