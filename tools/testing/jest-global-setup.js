'use strict';
const { ensureServices } = require('./services.js');

module.exports = async function globalSetup() {
  await ensureServices({ log: (m) => process.stderr.write(`${m}\n`) });
};
