'use strict';

module.exports = async function globalTeardown() {
  const services = globalThis.__periscopeServices;
  if (services) await services.stop();
};
