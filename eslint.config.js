// ESLint flat config: @eslint/js recommended everywhere, typescript-eslint's type-checked
// recommended set on the TypeScript (each part against the tsconfig that compiles it), and
// eslint-config-prettier last so that no ESLint rule argues with Prettier's layout.
// `npm run lint` runs this and `prettier --check .`; `npm run format` fixes what both can.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const tsFiles = ['**/*.ts', '**/*.tsx'];

export default defineConfig(
  {
    // .gitignore'd outputs, the recorded goldens and the generated fidelity manifests.
    ignores: ['dist/', 'dist-fuzz/', 'node_modules/', 'test-results/', 'mmsim-demo/', 'tmp/', 'test/golden/', 'fidelity/manifests/'],
  },
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },

  js.configs.recommended,
  {
    rules: {
      // The parsers of dmesg, zoneinfo and sysfs text match the kernel's column-aligned output
      // literally (/^  Node \d+: /); `/^ {2}Node/` would hide the layout being matched.
      'no-regex-spaces': 'off',
    },
  },

  // TypeScript with type information: the CLI/model (tsconfig.json), the tests (tsconfig.test.json,
  // which also takes in src/), the fuzz harness (fuzz/tsconfig.json) and the lab's browser app
  // (lab/tsconfig.json: DOM, Preact JSX).
  {
    files: tsFiles,
    extends: [tseslint.configs.recommendedTypeChecked],
  },
  {
    files: ['src/**/*.ts'],
    languageOptions: { parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname } },
  },
  {
    files: ['test/**/*.ts'],
    languageOptions: { parserOptions: { project: './tsconfig.test.json', tsconfigRootDir: import.meta.dirname } },
  },
  {
    files: ['fuzz/**/*.ts'],
    languageOptions: { parserOptions: { project: './fuzz/tsconfig.json', tsconfigRootDir: import.meta.dirname } },
  },
  {
    files: ['lab/src/**/*.ts', 'lab/src/**/*.tsx'],
    languageOptions: { parserOptions: { project: './lab/tsconfig.json', tsconfigRootDir: import.meta.dirname } },
  },
  {
    files: tsFiles,
    rules: {
      // The project's rules: no `any`, no unused bindings (a leading `_` marks one kept on purpose),
      // `import type` for type-only imports, and every promise awaited, returned or voided.
      // Deliberate style the recommended sets already leave alone: kernel-named identifiers
      // (pfn_to_page, page_zonenum: no naming-convention rule), generator-based tasks (require-yield
      // only flags a generator with no yield) and non-null assertions (no-non-null-assertion is
      // in the strict set, not this one).
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'separate-type-imports' }],
      '@typescript-eslint/no-floating-promises': 'error',
    },
  },
  // The vitest configs are in no tsconfig: syntax-level TypeScript rules only.
  {
    files: ['vitest.config.ts', 'vitest.qemu.config.ts', 'vitest.race.config.ts'],
    extends: [tseslint.configs.disableTypeChecked],
  },

  // Plain ES modules run by Node: benchmarks, the manifest generator, the example design, the
  // lab's Vite config and this file.
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { sourceType: 'module', globals: { ...globals.node } },
    rules: {
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
    },
  },

  prettier,
);
