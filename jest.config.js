// The root Jest run: every project in one process pool (what `npm test` runs).
const fs = require('node:fs');
const path = require('node:path');

const projectDirs = ['packages', 'apps', 'tools']
  .flatMap((group) =>
    fs.existsSync(path.join(__dirname, group))
      ? fs.readdirSync(path.join(__dirname, group)).map((d) => path.join(group, d))
      : [],
  )
  .filter((dir) => fs.existsSync(path.join(__dirname, dir, 'jest.config.js')));

module.exports = {
  projects: projectDirs.map((dir) => `<rootDir>/${dir}`),
};
