// App definition files on disk: YAML/JSON with source positions, paths resolved, scripts and icon read.
export * from "./json-schema.js";
export * from "./load.js";
export * from "./parse.js";
