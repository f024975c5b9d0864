// The third-party catalog: winget manifests and our own entries → app definitions (docs/catalog.md).
// Downloads are in ./download (verified, cached); commands are thin shells over catalog.ts.
export * from "./catalog.js";
export * from "./entries/schema.js";
export * from "./entries/source.js";
export * from "./errors.js";
export * from "./http.js";
export * from "./powershell.js";
export * from "./search.js";
export * from "./select.js";
export * from "./sources/source.js";
export * from "./sources/winget-folder.js";
export * from "./sources/winget-https.js";
export * from "./to-definition.js";
export * from "./winget/layout.js";
export * from "./winget/manifest.js";
export * from "./winget/version.js";
