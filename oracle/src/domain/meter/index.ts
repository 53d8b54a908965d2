export * from "./reading.js";
export * from "./validate.js";
export * from "./import.js";
export * from "./aggregate.js";
