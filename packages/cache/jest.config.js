module.exports = { ...require('@periscope-tools/testing/jest-preset'), displayName: 'cache', rootDir: __dirname };
