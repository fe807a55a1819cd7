// One lint config for the workspace: typescript-eslint's recommended rules (syntactic, so lint
// stays fast), plus the house rules: no focused or skipped tests, no explicit `any` in sources.
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

// The dependency floors of DESIGN.md, enforced by Nx from the project tags in each package.json:
// a package imports only from lower floors; apps compose packages; tools are for tests only.
const floors = [
  { sourceTag: 'floor:0', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'floor:1', onlyDependOnLibsWithTags: ['floor:0'] },
  { sourceTag: 'floor:2', onlyDependOnLibsWithTags: ['floor:0', 'floor:1'] },
  { sourceTag: 'floor:3', onlyDependOnLibsWithTags: ['floor:0', 'floor:1', 'floor:2'] },
  { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:package', 'type:tool'] },
];
const testFiles = ['**/test/**/*.ts', '**/*.test.ts', '**/bench/**/*.ts'];
const boundaries = (depConstraints) => ({
  '@nx/enforce-module-boundaries': ['error', { enforceBuildableLibDependency: false, depConstraints }],
});

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/coverage/**',
      '.nx/**',
      'tmp/**',
      '**/.stryker-tmp/**',
      '**/reports/**',
      '**/test-artifacts/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        globalThis: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-this-alias': 'off',
      'no-restricted-properties': [
        'error',
        { object: 'it', property: 'only', message: 'Focused tests hide the rest of the suite.' },
        { object: 'it', property: 'skip', message: 'Skipped tests are defects: fix or delete.' },
        { object: 'describe', property: 'only', message: 'Focused tests hide the rest of the suite.' },
        { object: 'describe', property: 'skip', message: 'Skipped tests are defects: fix or delete.' },
        { object: 'test', property: 'only', message: 'Focused tests hide the rest of the suite.' },
        { object: 'test', property: 'skip', message: 'Skipped tests are defects: fix or delete.' },
      ],
    },
  },
  { plugins: { '@nx': nx } },
  { files: ['packages/**/*.ts', 'apps/**/*.ts', 'tools/**/*.ts'], ignores: testFiles, rules: boundaries(floors) },
  {
    // Tests and benches use the package itself by name (black-box) and real sibling packages as
    // collaborators (a real Metrics registry, not a mock), as check-layers.mjs allows.
    files: testFiles,
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        { enforceBuildableLibDependency: false, allow: ['@periscope/*', '@periscope-tools/*'], depConstraints: [] },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { globals: { jest: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/test/**/*.ts', '**/*.test.ts', '**/bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
