module.exports = { ...require('@periscope-tools/testing/jest-preset'), displayName: 'logging', rootDir: __dirname };
