module.exports = { ...require('@periscope-tools/testing/jest-preset'), displayName: 'alerting', rootDir: __dirname };
