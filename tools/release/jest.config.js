// Verdaccio lives in registry/node_modules (its own install): keep it out of Jest's module map.
module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'tools-release',
  rootDir: __dirname,
  modulePathIgnorePatterns: ['<rootDir>/registry/'],
};
