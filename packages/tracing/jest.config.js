module.exports = { ...require('@periscope-tools/testing/jest-preset'), displayName: 'tracing', rootDir: __dirname };
