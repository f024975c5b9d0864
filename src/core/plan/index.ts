// The publish plan: desired app definitions × the tenant's apps → create / update-metadata / new-version / nothing.
// Pure (no I/O); src/publish/publish.ts reads the tenant and applies the plan. Reference: docs/publishing.md.
export * from "./plan.js";
export * from "./changes.js";
export * from "./targeting.js";
export * from "./removal.js";
export * from "./resolve.js";
export * from "./find.js";
export * from "./rollback.js";
