// Lint rules: the recommended sets of ESLint and typescript-eslint, plus the layering of docs/DESIGN.md ("Layers").
import { join } from "node:path";
import js from "@eslint/js";
import importX from "eslint-plugin-import-x";
import tseslint from "typescript-eslint";

const root = import.meta.dirname;
const abs = (glob) => join(root, glob);

// What each layer may import of ours (itself included). Checked on resolved paths, so at any folder depth.
// A new folder under src/ must get a row here (test/lint/layering.test.ts fails until it has one).
const LAYERS = {
  "src/core": ["src/core"],
  "src/platform": ["src/core", "src/platform"],
  "src/intunewin": ["src/core", "src/platform", "src/intunewin"],
  "src/clients": ["src/core", "src/platform", "src/clients"],
  "src/definitions": ["src/core", "src/platform", "src/definitions"],
  "src/catalog": ["src/core", "src/platform", "src/clients", "src/intunewin", "src/definitions", "src/catalog"],
  "src/inventory": ["src/core", "src/platform", "src/clients", "src/catalog", "src/inventory"],
  "src/publish": [
    "src/core",
    "src/platform",
    "src/intunewin",
    "src/clients",
    "src/definitions",
    "src/catalog",
    "src/inventory",
    "src/publish",
  ],
  "src/queue": [
    "src/core",
    "src/platform",
    "src/intunewin",
    "src/clients",
    "src/definitions",
    "src/catalog",
    "src/inventory",
    "src/publish",
    "src/queue",
  ],
  "src/cli": [
    "src/core",
    "src/platform",
    "src/intunewin",
    "src/clients",
    "src/definitions",
    "src/catalog",
    "src/inventory",
    "src/publish",
    "src/queue",
    "src/cli",
  ],
  "src/console": [
    "src/core",
    "src/platform",
    "src/intunewin",
    "src/clients",
    "src/definitions",
    "src/catalog",
    "src/inventory",
    "src/publish",
    "src/console",
  ],
  emulator: ["src/core", "src/platform", "emulator"],
};

// The only production file of src/ that may import the emulator: the local-tenant launcher adapter (loads it
// lazily, so a run against a real tenant loads none of it; `emulator start` goes through it too).
const EMULATOR_GATES = ["src/**/local-tenant-launcher*.ts"];

// The only file of src/cli that may import src/console: the `console` command, which starts it (the console never
// imports the CLI).
const CONSOLE_GATES = ["src/cli/commands/console.ts"];

// Tests, test helpers (`testing/` folders, left out of the npm package), bench and scripts import freely.
const TEST_CODE = ["**/*.test.ts", "**/testing/**"];

function layerZones({ emulatorAllowed, consoleAllowed = false }) {
  return Object.entries(LAYERS).map(([layer, own]) => {
    const allowed = consoleAllowed && layer === "src/cli" ? [...own, "src/console"] : own;
    const except = allowed.map((l) => abs(`${l}/**`));
    if (emulatorAllowed && layer.startsWith("src/")) except.push(abs("emulator/**"));
    return {
      target: abs(`${layer}/**`),
      from: abs("{src,emulator,test,bench,scripts}/**"),
      except,
      message: `${layer} may import only ${allowed.join(", ")}${emulatorAllowed ? " and emulator" : ""} (docs/DESIGN.md, Layers).`,
    };
  });
}

const testCodeZone = {
  target: abs("{src,emulator}/**"),
  from: TEST_CODE.map((g) => abs(`{src,emulator}/${g}`)),
  message: "production code never imports test code (it is left out of the npm package).",
};

const layering = (zones) => ({
  "import-x/no-restricted-paths": ["error", { basePath: root, zones: [...zones, testCodeZone] }],
  // An import the resolver cannot follow would escape the layering check.
  "import-x/no-unresolved": "error",
  "no-restricted-syntax": [
    "error",
    {
      selector: "ImportExpression[source.type!='Literal']",
      message: "import() takes a string literal here, so that the layering check can follow it.",
    },
  ],
});

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "coverage/**", ".tmp/**", "bench/.work/**", "test/fixtures/**"] },
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
    files: ["src/**/*.ts", "emulator/**/*.ts"],
    ignores: TEST_CODE,
    plugins: { "import-x": importX },
    settings: {
      // NodeNext: a `.js` specifier names the `.ts` file beside it.
      "import-x/resolver-next": [
        importX.createNodeResolver({
          extensions: [".ts", ".d.ts", ".js", ".mjs", ".cjs", ".json", ".node"],
          extensionAlias: { ".js": [".ts", ".d.ts", ".js"] },
        }),
      ],
    },
    rules: layering(layerZones({ emulatorAllowed: false })),
  },
  {
    files: EMULATOR_GATES,
    ignores: TEST_CODE,
    rules: layering(layerZones({ emulatorAllowed: true })),
  },
  {
    files: CONSOLE_GATES,
    ignores: TEST_CODE,
    rules: layering(layerZones({ emulatorAllowed: false, consoleAllowed: true })),
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
