export * from "./nodeMetrics.js";
export * from "./opsRoutes.js";
export * from "./registry.js";
