// Targeting and lifecycle, pure: assignments, relationships (supersedence, dependencies), ESP membership.
export * from "./assignments.js";
export * from "./esp.js";
export * from "./relationships.js";
