module.exports = { ...require('../../jest.preset.js'), displayName: 'tools-ops-assets', rootDir: __dirname };
