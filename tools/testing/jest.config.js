module.exports = { ...require('../../jest.preset.js'), displayName: 'tools-testing', rootDir: __dirname };
