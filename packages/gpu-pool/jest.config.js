module.exports = { ...require('@periscope-tools/testing/jest-preset'), displayName: 'gpu-pool', rootDir: __dirname };
