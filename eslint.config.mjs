// @ts-check
import eslint from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const typescript = ['{apps,libs,scripts,bench,test}/**/*.ts'];
const tests = ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts'];
// Code that drives the running system from outside and reads untyped JSON bodies back.
const testSupport = ['apps/*/test/**/*.ts', 'libs/testing/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'];

export default defineConfig(
  { ignores: ['**/dist/', '**/node_modules/', '**/.infra/', '**/coverage/'] },
  {
    files: ['**/*.{js,mjs,cjs}'],
    extends: [eslint.configs.recommended],
    languageOptions: { globals: globals.node },
  },
  { files: ['**/*.js'], languageOptions: { sourceType: 'commonjs' } },
  {
    files: typescript,
    extends: [eslint.configs.recommended, tseslint.configs.recommended],
    languageOptions: {
      // Whole tree type-aware: about 14 s for `eslint .` on this machine.
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // A promise nobody awaits loses its rejection; `void promise` marks fire-and-forget.
      '@typescript-eslint/no-floating-promises': 'error',
      // attributes: JSX only. Async callbacks passed where a void function is expected stay
      // errors: an EventEmitter or timer never handles the promise they return.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false } }],
      // `Promise.all(xs.map((x) => x.channel?.close()))`: optional promises are deliberate.
      '@typescript-eslint/await-thenable': ['error', { allowMixedPromiseArrays: true }],
      // `return promise` inside try skips the catch/finally: the one return-await case that is a bug.
      '@typescript-eslint/return-await': ['error', 'error-handling-correctness-only'],
      // Errors are Error/DomainError objects; rethrowing a caught unknown is fine.
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
      // A switch over a union (saga stage, event type) without a default must name every member.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      // `_` marks a parameter kept for a signature or a property dropped by destructuring.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    files: [...tests, ...testSupport],
    rules: {
      // Untyped response bodies and partial stubs; `!` on values a test has just asserted.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  prettier,
);
