/**
 * Time and units shared by every part of GridBrain (see docs/ONBOARDING.md):
 * energy in integer watt-hours, prices in token base units per kWh, intervals of
 * `intervalSeconds` counted from the Unix epoch.
 */

/** `intervalId = floor(unixSeconds / intervalSeconds)`. */
export function intervalIdAt(unixSeconds: bigint, intervalSeconds: bigint): bigint {
  if (intervalSeconds <= 0n) throw new RangeError("intervalSeconds must be positive");
  if (unixSeconds < 0n) throw new RangeError("unixSeconds must not be negative");
  return unixSeconds / intervalSeconds;
}

/*
 * The cost rounding is SettlementMath's, on uint256: both functions are for non-negative price and
 * energy, as every caller passes. For a negative product BigInt division truncates toward zero, so
 * neither is a floor or a ceiling there (costRoundedUp(1n, -1000n) is 0n, not -1n).
 */

/** Cost of `energyWh` at `pricePerKwh`, rounded down: what the market pays out. */
export function costRoundedDown(pricePerKwh: bigint, energyWh: bigint): bigint {
  return (pricePerKwh * energyWh) / 1000n;
}

/** Cost of `energyWh` at `pricePerKwh`, rounded up: what the market charges. */
export function costRoundedUp(pricePerKwh: bigint, energyWh: bigint): bigint {
  const product = pricePerKwh * energyWh;
  return (product + 999n) / 1000n;
}

/**
 * What an order locks while open, as `EnergyMarket.orderLock` computes it: every order the
 * imbalance collateral, a bid also its highest payment (limit price × energy), each rounded up
 * (a charge: the market never holds too little).
 */
export function orderLock(
  side: "bid" | "offer",
  quantityWh: bigint,
  limitPricePerKwh: bigint,
  collateralPerKwh: bigint,
): bigint {
  const collateral = costRoundedUp(collateralPerKwh, quantityWh);
  return side === "bid" ? collateral + costRoundedUp(limitPricePerKwh, quantityWh) : collateral;
}
