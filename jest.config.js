// Three tiers: unit (no I/O), integration (one app's modules against the real servers),
// end-to-end (the six compiled apps driven over HTTP and the brokers).
const moduleNameMapper = {
  '^@app/([a-z-]+)$': '<rootDir>/libs/$1/src',
  '^@app/([a-z-]+)/(.*)$': '<rootDir>/libs/$1/src/$2',
};
const fs = require('node:fs');
const path = require('node:path');

// Nest 12 (and some of its dependencies) ship only ES modules. Node 20.19+ require()s them, which
// is what the built apps do, but jest 29's module loader (and jest 30's below Node 24.9) cannot:
// it runs every file as CommonJS. So jest turns the ESM-only packages into CommonJS with Babel
// (import/export and import() become require(); import.meta its CommonJS equivalents) and keeps
// every other package untransformed. The list is every installed package marked "type": "module",
// so a dependency that turns ESM-only later is covered without editing this file.
function esmOnlyPackages() {
  const root = path.join(__dirname, 'node_modules');
  const names = [];
  const isEsm = (dir) => {
    try {
      return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).type === 'module';
    } catch {
      return false;
    }
  };
  for (const entry of fs.existsSync(root) ? fs.readdirSync(root) : []) {
    if (entry.startsWith('.')) continue;
    if (entry.startsWith('@')) {
      for (const sub of fs.readdirSync(path.join(root, entry))) if (isEsm(path.join(root, entry, sub))) names.push(`${entry}/${sub}`);
    } else if (isEsm(path.join(root, entry))) names.push(entry);
  }
  return names;
}
const escape = (name) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const importMetaPlugin = require.resolve('./scripts/jest/import-meta-cjs.babel.js');
const sha1 = (data) => require('node:crypto').createHash('sha1').update(data).digest('hex');
const transformIgnorePatterns = [`/node_modules/(?!(${esmOnlyPackages().map(escape).join('|')})/)`];

const transform = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json', diagnostics: false }],
  '^.+\\.js$': [
    'babel-jest',
    {
      babelrc: false,
      configFile: false,
      sourceType: 'module',
      // The plugin's own source is in its options so that babel-jest's cache key changes with it.
      plugins: [[importMetaPlugin, { source: sha1(fs.readFileSync(importMetaPlugin)) }], '@babel/plugin-transform-modules-commonjs'],
    },
  ],
};
const common = {
  rootDir: __dirname,
  moduleFileExtensions: ['ts', 'js', 'json'],
  testEnvironment: 'node',
  transform,
  transformIgnorePatterns,
  moduleNameMapper,
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,scripts}/**/*.spec.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/{apps,libs}/**/*.int-spec.ts'], slowTestThreshold: 30 },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/apps/*/test/**/*.e2e-spec.ts', '<rootDir>/test/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/libs/testing/src/e2e-global-setup.ts',
      globalTeardown: '<rootDir>/libs/testing/src/e2e-global-teardown.ts',
      slowTestThreshold: 60,
    },
  ],
};
