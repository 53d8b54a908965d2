/**
 * Standing flexibility orders in the committee's schedule (issue 14; docs/DISPATCH.md,
 * "Flexibility orders"). Pure: the chain's data comes in as arguments.
 */
export * from "./types.js";
export * from "./rules.js";
export * from "./plan.js";
export * from "./steps.js";
export * from "./pending.js";
export * from "./log-index.js";
