/**
 * Dispatch engine: grid-aware market clearing with batteries. See docs/DISPATCH.md.
 */
export { dispatchInstanceSchema, orderSchema, lineSchema, batterySchema, horizonSchema } from "./schema.js";
export type { DispatchInstance, DispatchInstanceInput, Order, Line, Battery } from "./schema.js";
export { DispatchInputError, DispatchModelError, DispatchRoundingError } from "./errors.js";
export { solveDispatch, solveDispatchSync, parseDispatchInstance } from "./solve.js";
export type { DispatchResult, DispatchStats, DispatchMethod, SolveDispatchOptions } from "./solve.js";
export { loadHighs, HIGHS_OPTIONS, HIGHS_PACKAGE_VERSION } from "./highs.js";
export { canonicalJson, canonicalBytes, canonicalHash } from "./canonical.js";
export { SCHEDULE_FORMAT, bracketPrice, receivedWh } from "./schedule.js";
export type {
  CanonicalSchedule,
  ScheduleFill,
  SchedulePrice,
  ScheduleFlow,
  ScheduleBattery,
  ScheduleBatteryStep,
  SolverInfo,
} from "./schedule.js";
export { solveInWorker, solveRollingInWorker, warmUpSolver } from "./worker.js";
export { summarizeSchedule } from "./explain.js";
export type { ZoneIntervalSummary } from "./explain.js";
