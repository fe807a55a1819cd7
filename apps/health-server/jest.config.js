module.exports = { ...require('../../jest.preset.js'), displayName: 'health-server', rootDir: __dirname };
