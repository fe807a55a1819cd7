export { TcpFaultProxy, type TcpFaultProxyOptions, type ProxyMode } from './tcp-proxy';
export { postgresUrl, redisUrl, freePort, canConnect } from './services';
