// App definitions: zod schema and inferred types, Intune limits, ownership stamp, mapping to Graph bodies.
// Pure (no I/O); src/catalog loads definition files. Reference: docs/app-definitions.md.
export * from "./errors.js";
export * from "./limits.js";
export * from "./schema.js";
export * from "./stamp.js";
export * from "./to-graph.js";
export * from "./diff.js";
export * from "./targeting-schema.js";
