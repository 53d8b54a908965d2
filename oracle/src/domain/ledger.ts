/**
 * The market's conservation identity (EnergyMarket's storage invariant), as a pure sum:
 *
 *   token.balanceOf(market) == Σ free balances
 *                            + Σ locks of open orders            (bids: ⌈limit·qty⌉ + ⌈collateral·qty⌉,
 *                                                                 offers: ⌈collateral·qty⌉)
 *                            + Σ imbalance collateral of settled fills (buy and sell; not the grid's)
 *                              whose imbalance (or collateral release) is still pending (⌈collateral·filled⌉)
 *                            + Σ withheld seller payouts of those fills (sellers are paid after delivery)
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
  /**
   * Filled energy of each settled fill (buy or sell, not a grid account's) whose delivery is not
   * settled yet (no imbalance settlement, no collateral release).
   */
  readonly pendingFillsWh: readonly bigint[];
  /** The payout withheld for each seller until its delivery is settled (`pendingPayout`). */
  readonly withheldPayouts: readonly bigint[];
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
  readonly withheldPayouts: bigint;
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
  // A bid locks its payment and, like an offer, the imbalance collateral of its quantity.
  const bids = sum(
    input.openOrders
      .filter((o) => o.side === 0)
      .map(
        (o) =>
          costRoundedUp(o.limitPricePerKwh, o.quantityWh) +
          costRoundedUp(input.offerCollateralPerKwh, o.quantityWh),
      ),
  );
  const offerCollateral = sum(
    input.openOrders
      .filter((o) => o.side === 1)
      .map((o) => costRoundedUp(input.offerCollateralPerKwh, o.quantityWh)),
  );
  const fillCollateral = sum(
    input.pendingFillsWh.map((wh) => costRoundedUp(input.offerCollateralPerKwh, wh)),
  );
  const withheldPayouts = sum(input.withheldPayouts);
  const unsettledPayouts = sum(input.intervalSurpluses);
  const owed =
    free + bids + offerCollateral + fillCollateral + withheldPayouts + unsettledPayouts + input.operatorFunds;
  return {
    marketTokenBalance: input.marketTokenBalance,
    free,
    bids,
    offerCollateral,
    fillCollateral,
    withheldPayouts,
    unsettledPayouts,
    operatorFunds: input.operatorFunds,
    owed,
    exact: owed === input.marketTokenBalance,
  };
}

/**
 * FlexibilityMarket's conservation identity (its storage invariant), as a pure sum:
 *
 *   token.balanceOf(flexibilityMarket) == Σ owners' balances (discharge credits and refunds not withdrawn)
 *                                       + Σ (chargeBudget − spent) of placed orders not refunded
 */
export interface FlexLedgerInput {
  readonly tokenBalance: bigint;
  readonly balances: readonly bigint[];
  /** Each placed order not yet refunded: its budget and what its charges spent. */
  readonly openBudgets: readonly { readonly chargeBudget: bigint; readonly spent: bigint }[];
}

export interface FlexLedger {
  readonly tokenBalance: bigint;
  readonly balances: bigint;
  readonly unspentBudgets: bigint;
  readonly owed: bigint;
  readonly exact: boolean;
}

export function flexLedger(input: FlexLedgerInput): FlexLedger {
  const balances = input.balances.reduce((s, x) => s + x, 0n);
  const unspentBudgets = input.openBudgets.reduce((s, o) => {
    if (o.spent > o.chargeBudget)
      throw new RangeError(`openBudgets: spent ${o.spent} exceeds the budget ${o.chargeBudget}`);
    return s + o.chargeBudget - o.spent;
  }, 0n);
  const owed = balances + unspentBudgets;
  return {
    tokenBalance: input.tokenBalance,
    balances,
    unspentBudgets,
    owed,
    exact: owed === input.tokenBalance,
  };
}
