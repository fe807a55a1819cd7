module.exports = { ...require('@periscope-tools/testing/jest-preset'), displayName: 'profiling', rootDir: __dirname };
