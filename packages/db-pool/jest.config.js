module.exports = { ...require('../../jest.preset.js'), displayName: 'db-pool', rootDir: __dirname };
