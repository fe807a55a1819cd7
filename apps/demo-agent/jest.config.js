module.exports = { ...require('@periscope-tools/testing/jest-preset'), displayName: 'demo-agent', rootDir: __dirname };
