module.exports = { ...require('@periscope-tools/testing/jest-preset'), displayName: 'metrics', rootDir: __dirname };
