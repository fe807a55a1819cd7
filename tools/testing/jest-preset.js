// The workspace Jest preset under a package name, so each project's jest.config.js can load it
// without reaching outside its folder (the dependency-floor rule).
module.exports = require('../../jest.preset.js');
