module.exports = { ...require('@periscope-tools/testing/jest-preset'), displayName: 'core', rootDir: __dirname };
