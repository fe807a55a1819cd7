module.exports = { ...require('../../jest.preset.js'), displayName: 'demo-agent', rootDir: __dirname };
