import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'data/',
      'node_modules/',
      'bench/results/',
      'coverage/',
      'console/dist/',
      'console/src/schema.d.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // Migrations run against whatever schema exists at their point in history, not the current one.
    files: ['src/db/migrations/**', 'src/db/migrate.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Tenancy is structural: repositories reach tenant tables only through their TenantScope.
    files: ['src/db/repositories/**'],
    ignores: ['src/db/repositories/instance.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "CallExpression[callee.property.name=/^(selectFrom|updateTable|deleteFrom|insertInto)$/][callee.object.name!='scope']",
          message:
            'Query tenant tables through the TenantScope (scope.selectFrom, ...), never the raw Kysely builders.',
        },
      ],
    },
  },
  {
    // The layers import in one direction: domain <- db <- services <- http, cli.
    files: ['src/domain/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            '**/db/**',
            '**/services/**',
            '**/http/**',
            '**/cli/**',
            'kysely',
            'fastify',
            'pg',
            'better-sqlite3',
          ],
        },
      ],
    },
  },
  {
    files: ['src/db/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['**/services/**', '**/http/**', '**/cli/**'] }],
    },
  },
  {
    files: ['src/services/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/http/**', '**/cli/**', 'fastify'] }] },
  },
  {
    // The CLI runs use cases through services and serves the http app; it opens the store
    // (cli/store.ts) but reaches no table itself, nor any part of http but the app.
    files: ['src/cli/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            '**/db/**',
            '!**/db/store.js',
            '**/http/**',
            '!**/http/app.js',
            'kysely',
            'pg',
            'better-sqlite3',
            'fastify',
          ],
        },
      ],
    },
  },
  {
    // A seed adapter maps requests onto services; it never touches the database.
    files: ['src/http/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['**/db/**', 'kysely', 'pg', 'better-sqlite3'] }],
    },
  },
  {
    // The console is a client of the public API, typed from its OpenAPI document: it imports nothing of the server's.
    files: ['console/**'],
    ignores: ['console/vite.config.ts'],
    languageOptions: { globals: globals.browser },
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/src/**'] }] },
  },
);
