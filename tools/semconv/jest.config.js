module.exports = { ...require('../../jest.preset.js'), displayName: 'tools-semconv', rootDir: __dirname };
