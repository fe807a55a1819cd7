module.exports = { ...require('@periscope-tools/testing/jest-preset'), displayName: 'health', rootDir: __dirname };
