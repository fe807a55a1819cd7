module.exports = {
  ...require('@periscope-tools/testing/jest-preset'),
  displayName: 'health-server',
  rootDir: __dirname,
};
