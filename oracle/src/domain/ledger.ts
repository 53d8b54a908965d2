/**
 * The market's conservation identity (EnergyMarket's storage invariant), as a pure sum:
 *
 *   token.balanceOf(market) == Σ free balances
 *                            + Σ locks of open orders            (bids: ⌈limit·qty⌉, offers: ⌈collateral·qty⌉)
 *                            + Σ collateral of settled sell fills whose imbalance (or collateral
 *                              release) is still pending          (⌈collateral·filled⌉)
 *                            + Σ (receipts − payouts) of intervals (charged, not yet paid or credited)
 *                            + operator funds
 *
 * Each term is a kind of lock the market holds for someone; a check that leaves one out reports a
 * market whose books are exact as not conserved (the demo's "funds conserved NO").
 */
import { costRoundedUp } from "./units.js";

export interface LedgerOrder {
  readonly side: 0 | 1;
  readonly quantityWh: bigint;
  readonly limitPricePerKwh: bigint;
}

export interface LedgerInput {
  /** The market's token balance. */
  readonly marketTokenBalance: bigint;
  readonly freeBalances: readonly bigint[];
  /** Orders still open (placed, not cancelled, released or settled). */
  readonly openOrders: readonly LedgerOrder[];
  /** Filled energy of each settled sell fill whose imbalance is not settled (nor its collateral released). */
  readonly pendingSellFillsWh: readonly bigint[];
  /** receipts − payouts of each interval. */
  readonly intervalSurpluses: readonly bigint[];
  readonly operatorFunds: bigint;
  readonly offerCollateralPerKwh: bigint;
}

export interface Ledger {
  readonly marketTokenBalance: bigint;
  readonly free: bigint;
  readonly bids: bigint;
  readonly offerCollateral: bigint;
  readonly fillCollateral: bigint;
  readonly unsettledPayouts: bigint;
  readonly operatorFunds: bigint;
  /** The sum of every term: what the market owes. */
  readonly owed: bigint;
  /** True when the market holds exactly what it owes, to the token unit. */
  readonly exact: boolean;
}

export function marketLedger(input: LedgerInput): Ledger {
  const sum = (xs: readonly bigint[]) => xs.reduce((s, x) => s + x, 0n);
  const free = sum(input.freeBalances);
  const bids = sum(
    input.openOrders.filter((o) => o.side === 0).map((o) => costRoundedUp(o.limitPricePerKwh, o.quantityWh)),
  );
  const offerCollateral = sum(
    input.openOrders
      .filter((o) => o.side === 1)
      .map((o) => costRoundedUp(input.offerCollateralPerKwh, o.quantityWh)),
  );
  const fillCollateral = sum(
    input.pendingSellFillsWh.map((wh) => costRoundedUp(input.offerCollateralPerKwh, wh)),
  );
  const unsettledPayouts = sum(input.intervalSurpluses);
  const owed = free + bids + offerCollateral + fillCollateral + unsettledPayouts + input.operatorFunds;
  return {
    marketTokenBalance: input.marketTokenBalance,
    free,
    bids,
    offerCollateral,
    fillCollateral,
    unsettledPayouts,
    operatorFunds: input.operatorFunds,
    owed,
    exact: owed === input.marketTokenBalance,
  };
}
