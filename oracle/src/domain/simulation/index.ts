/**
 * Physical simulation of a neighbourhood for the GridBrain demo: solar position and PV, a cloud
 * process, BDEW household load, home batteries, forecasts vs actuals, and the agents' bidding
 * strategy. Pure and deterministic; models and sources in docs/SIMULATION.md.
 */
export { Prng, deriveSeed, type Seed } from "./random.js";
export {
  CENTRAL_EUROPEAN_TIME,
  dayTypeOf,
  localMidnightUnix,
  localTime,
  utcOffsetSeconds,
  type DayType,
  type LocalTime,
  type TimeZoneRule,
} from "./time.js";
export {
  AMSTERDAM,
  SOLAR_CONSTANT,
  cosAngleOfIncidence,
  decomposeGhi,
  erbsDiffuseFraction,
  extraterrestrialIrradiance,
  fractionalYear,
  haurwitzClearSkyGhi,
  planeOfArrayIrradiance,
  solarPosition,
  type IrradianceComponents,
  type Location,
  type PlaneOrientation,
  type SolarPosition,
} from "./solar.js";
export {
  DEFAULT_PV_LOSSES,
  PV_SAMPLES_PER_INTERVAL,
  pvAcPower,
  pvEnergyWh,
  type PvLossModel,
  type PvSystem,
} from "./pv.js";
export {
  DEFAULT_CLOUD_MODEL,
  forecastClearSkyIndex,
  houseClearSkyIndex,
  initialClearSkyIndex,
  nextClearSkyIndex,
  type CloudModel,
} from "./cloud.js";
export { bdewDynamisationFactor, expectedLoadWh, h25Day, quarterHourLoadWh } from "./loadProfile.js";
export {
  generateNeighbourhood,
  neighbourhoodOptionsSchema,
  parseNeighbourhoodOptions,
  type HomeBattery,
  type Household,
  type Neighbourhood,
  type NeighbourhoodOptions,
  type NeighbourhoodOptionsInput,
} from "./neighbourhood.js";
export {
  NeighbourhoodSimulator,
  initialSimulationState,
  simulateInterval,
  simulationOptionsSchema,
  type EnergyWh,
  type HouseholdInterval,
  type IntervalSimulation,
  type SimulationOptionsInput,
  type SimulationState,
} from "./simulator.js";
export {
  applyBatteryEnergy,
  batteryIntervalLimits,
  chargeHeadroomWh,
  dischargeHeadroomWh,
  meterReading,
} from "./battery.js";
export {
  GRID_OWNER,
  batteryPriceThresholds,
  hedgedPositionWh,
  normalQuantile,
  parseStrategyOptions,
  placeOrders,
  strategyOptionsSchema,
  type BatteryPriceThresholds,
  type OrderPurpose,
  type PlaceOrdersParameters,
  type StrategyOptions,
  type StrategyOptionsInput,
  type StrategyOrder,
} from "./strategy.js";
export {
  MAX_WINDOW_INTERVALS,
  flexWindows,
  followFlexStep,
  standingFlexOrder,
  standingOrderPriceLimits,
  type FollowedStep,
  type FlexWindow,
  type StandingFlexOrder,
  type StandingFlexOrderParameters,
} from "./flex-orders.js";
export { zoneFollowingSteps, type BatteryStep, type ZoneFollower } from "./zone-following.js";
