module.exports = { ...require('@periscope-tools/testing/jest-preset'), displayName: 'db-pool', rootDir: __dirname };
