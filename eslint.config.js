// Lint rules: the recommended sets of ESLint and typescript-eslint, plus the layering rule of docs/DESIGN.md.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "coverage/**", ".tmp/**", "bench/.work/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      eqeqeq: ["error", "always"],
      "no-console": "error",
    },
  },
  {
    // Layering: core has no I/O and imports nothing above it; the emulator never imports our client code.
    files: ["src/core/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            "../intunewin/*",
            "../clients/*",
            "../catalog/*",
            "../definitions/*",
            "../publish/*",
            "../cli/*",
            "../../emulator/*",
          ],
        },
      ],
    },
  },
  {
    files: ["emulator/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            "../src/intunewin/*",
            "../src/clients/*",
            "../src/publish/*",
            "../src/cli/*",
            "../../src/intunewin/*",
            "../../src/clients/*",
            "../../src/publish/*",
            "../../src/cli/*",
          ],
        },
      ],
    },
  },
  {
    files: [
      "src/intunewin/**/*.ts",
      "src/clients/**/*.ts",
      "src/catalog/**/*.ts",
      "src/definitions/**/*.ts",
      "src/publish/**/*.ts",
    ],
    rules: { "no-restricted-imports": ["error", { patterns: ["../cli/*", "../../cli/*"] }] },
  },
  {
    // Benchmarks report on stdout.
    files: ["bench/**/*.ts"],
    rules: { "no-console": "off" },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly" } },
  },
);
